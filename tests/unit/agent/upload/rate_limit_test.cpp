#include "agent/upload/rate_limit.hpp"

#include <doctest/doctest.h>

namespace lightbox::agent::upload {
namespace {

std::tm at(int wday, int hour, int minute) {
  std::tm t{};
  t.tm_wday = wday;
  t.tm_hour = hour;
  t.tm_min = minute;
  return t;
}

BandwidthPolicy clinic_hours() {
  BandwidthPolicy p;
  p.default_mbps = 0;
  p.windows.push_back({{1, 2, 3, 4, 5}, 8 * 60, 18 * 60, 20});
  return p;
}

}  // namespace

TEST_CASE("calendar windows pick the cap by weekday and local time") {
  BandwidthPolicy p = clinic_hours();
  CHECK(p.mbps_at(at(1, 8, 0)) == 20);    // Monday 08:00: in (start inclusive)
  CHECK(p.mbps_at(at(5, 17, 59)) == 20);  // Friday 17:59
  CHECK(p.mbps_at(at(5, 18, 0)) == 0);    // end exclusive: unlimited
  CHECK(p.mbps_at(at(0, 12, 0)) == 0);    // Sunday: unlimited
  CHECK(p.mbps_at(at(3, 7, 59)) == 0);
  CHECK_FALSE(p.unlimited());
  CHECK(BandwidthPolicy{}.unlimited());
}

TEST_CASE("a window past midnight covers the next morning of the day it starts") {
  BandwidthPolicy p;
  p.default_mbps = 50;
  p.windows.push_back({{5}, 22 * 60, 6 * 60, 5});  // Friday 22:00 -> Saturday 06:00
  CHECK(p.mbps_at(at(5, 23, 0)) == 5);
  CHECK(p.mbps_at(at(6, 5, 59)) == 5);
  CHECK(p.mbps_at(at(6, 6, 0)) == 50);
  CHECK(p.mbps_at(at(5, 5, 0)) == 50);  // Friday morning belongs to Thursday's window: none
}

TEST_CASE("weekday and clock parsing") {
  CHECK(parse_weekday("mon") == 1);
  CHECK(parse_weekday("sun") == 0);
  CHECK_FALSE(parse_weekday("Monday").has_value());
  CHECK(parse_clock("08:30") == 510);
  CHECK(parse_clock("24:00") == 1440);
  CHECK_FALSE(parse_clock("24:01").has_value());
  CHECK_FALSE(parse_clock("8:30").has_value());
  CHECK_FALSE(parse_clock("08:60").has_value());
}

TEST_CASE("the token bucket spaces reservations at the cap, shared by every caller") {
  BandwidthPolicy p;
  p.default_mbps = 8;  // 1 MB/s
  RateLimiter rl(p, [] { return at(1, 12, 0); }, std::chrono::milliseconds(0));
  const auto t0 = RateLimiter::Clock::now();
  using std::chrono::milliseconds;
  // Four "workers" reserve 250 kB each at the same instant: together one second of budget.
  auto w1 = rl.reserve(250'000, t0);
  auto w2 = rl.reserve(250'000, t0);
  auto w3 = rl.reserve(250'000, t0);
  auto w4 = rl.reserve(250'000, t0);
  CHECK(std::chrono::duration_cast<milliseconds>(w1).count() == 250);
  CHECK(std::chrono::duration_cast<milliseconds>(w2).count() == 500);
  CHECK(std::chrono::duration_cast<milliseconds>(w3).count() == 750);
  CHECK(std::chrono::duration_cast<milliseconds>(w4).count() == 1000);
  // Idle time is not banked beyond the burst (0 here): after a long pause, one reservation again.
  auto later = t0 + std::chrono::seconds(10);
  CHECK(std::chrono::duration_cast<milliseconds>(rl.reserve(125'000, later)).count() == 125);
}

TEST_CASE("unlimited never waits") {
  RateLimiter rl(BandwidthPolicy{}, [] { return at(1, 12, 0); });
  CHECK(rl.reserve(1'000'000'000, RateLimiter::Clock::now()) == RateLimiter::Clock::duration::zero());
  CHECK(rl.acquire(1'000'000'000));
}

}  // namespace lightbox::agent::upload
