#include "agent/upload/rate_limit.hpp"

#include <algorithm>
#include <array>
#include <thread>

namespace lightbox::agent::upload {
namespace {

std::tm local_time_now() {
  std::time_t t = std::time(nullptr);
  std::tm out{};
  localtime_r(&t, &out);
  return out;
}

bool in_window(const BandwidthWindow& w, const std::tm& t) {
  const int minute = t.tm_hour * 60 + t.tm_min;
  auto has_day = [&](int d) { return std::find(w.days.begin(), w.days.end(), d) != w.days.end(); };
  if (w.start_minute <= w.end_minute) return has_day(t.tm_wday) && minute >= w.start_minute && minute < w.end_minute;
  // Spans midnight: the evening part on the named day, the morning part on the day after.
  if (minute >= w.start_minute) return has_day(t.tm_wday);
  return minute < w.end_minute && has_day((t.tm_wday + 6) % 7);
}

}  // namespace

double BandwidthPolicy::mbps_at(const std::tm& local) const {
  for (const auto& w : windows)
    if (in_window(w, local)) return w.mbps;
  return default_mbps;
}

bool BandwidthPolicy::unlimited() const {
  if (default_mbps > 0) return false;
  return std::all_of(windows.begin(), windows.end(), [](const BandwidthWindow& w) { return w.mbps <= 0; });
}

std::optional<int> parse_weekday(const std::string& s) {
  static constexpr std::array<const char*, 7> kDays = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  for (int i = 0; i < 7; ++i)
    if (s == kDays[static_cast<std::size_t>(i)]) return i;
  return std::nullopt;
}

std::optional<int> parse_clock(const std::string& s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  auto digit = [&](std::size_t i) { return s[i] >= '0' && s[i] <= '9'; };
  if (!digit(0) || !digit(1) || !digit(3) || !digit(4)) return std::nullopt;
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

RateLimiter::RateLimiter(BandwidthPolicy policy, LocalNow local_now, std::chrono::milliseconds burst)
    : policy_(std::move(policy)), local_now_(local_now ? std::move(local_now) : LocalNow(local_time_now)), burst_(burst) {}

double RateLimiter::current_mbps() {
  std::lock_guard lock(mu_);
  const auto now = Clock::now();
  if (!checked_ || now - checked_at_ >= std::chrono::seconds(1)) {
    mbps_ = policy_.mbps_at(local_now_());
    checked_at_ = now;
    checked_ = true;
  }
  return mbps_;
}

RateLimiter::Clock::duration RateLimiter::reserve(std::size_t bytes, Clock::time_point now) {
  const double mbps = current_mbps();
  std::lock_guard lock(mu_);
  if (mbps <= 0) {
    next_ = now;
    return Clock::duration::zero();
  }
  const double bytes_per_second = mbps * 1e6 / 8.0;
  const auto cost = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(bytes) / bytes_per_second));
  const Clock::time_point start = std::max(next_, now - burst_);
  next_ = start + cost;
  return next_ > now ? next_ - now : Clock::duration::zero();
}

bool RateLimiter::acquire(std::size_t bytes, const std::function<bool()>& cancelled) {
  if (policy_.unlimited()) return true;
  const auto now = Clock::now();
  const auto until = now + reserve(bytes, now);
  while (Clock::now() < until) {
    if (cancelled && cancelled()) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(100)));
  }
  return true;
}

}  // namespace lightbox::agent::upload
