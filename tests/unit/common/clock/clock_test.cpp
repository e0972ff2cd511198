#include "common/clock/clock.hpp"

#include <doctest/doctest.h>

using namespace lightbox;

TEST_CASE("ISO-8601 UTC text of a known instant") {
  const std::int64_t t = 1795833599123;  // 2026-11-28T02:39:59.123Z
  CHECK(clock::iso_utc_ms(t) == "2026-11-28T02:39:59.123Z");
  CHECK(clock::iso_utc(t) == "2026-11-28T02:39:59Z");
  CHECK(clock::utc_date(t) == "2026-11-28");
  CHECK(clock::compact_utc(t) == "20261128T023959Z");
  CHECK(clock::iso_utc_ms(0) == "1970-01-01T00:00:00.000Z");
  CHECK(clock::iso_utc_ms(-1) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("parse_iso_utc reads back what the writers produce") {
  for (std::int64_t t : {0LL, 1795833599123LL, 951782400000LL /* 2000-02-29 */}) {
    CHECK(clock::parse_iso_utc(clock::iso_utc_ms(t)) == t);
    CHECK(clock::parse_iso_utc(clock::iso_utc(t)) == t / 1000 * 1000);
  }
  CHECK(clock::parse_iso_utc("2026-11-28T02:39:59.5Z") == 1795833599500);
}

TEST_CASE("parse_iso_utc refuses what is not a UTC timestamp") {
  CHECK_FALSE(clock::parse_iso_utc(""));
  CHECK_FALSE(clock::parse_iso_utc("2026-11-28"));
  CHECK_FALSE(clock::parse_iso_utc("2026-11-28T02:39:59"));        // no zone
  CHECK_FALSE(clock::parse_iso_utc("2026-11-28T02:39:59+08:00"));  // not UTC
  CHECK_FALSE(clock::parse_iso_utc("2026-13-28T02:39:59Z"));
  CHECK_FALSE(clock::parse_iso_utc("2026-11-28T02:39:59.Z"));
  CHECK_FALSE(clock::parse_iso_utc("2026-11-28T02:39:59Zjunk"));
}

TEST_CASE("now_ms is the wall clock") {
  const std::int64_t a = clock::now_ms();
  CHECK(a > 1700000000000);  // after 2023
  CHECK(clock::now_ms() >= a);
}
