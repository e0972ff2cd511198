#pragma once
// The bandwidth cap: one token bucket shared by every upload worker, whose rate follows a
// calendar (e.g. 20 Mbit/s Monday-Friday 08:00-18:00, unlimited otherwise), in local time.
#include <chrono>
#include <cstdint>
#include <ctime>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace lightbox::agent::upload {

/// One calendar window: on these weekdays between start and end (local time), cap at `mbps`.
struct BandwidthWindow {
  std::vector<int> days;   // 0 = Sunday ... 6 = Saturday (std::tm::tm_wday)
  int start_minute = 0;    // minutes after midnight, inclusive
  int end_minute = 1440;   // exclusive; end < start spans midnight (the day named is the start's)
  double mbps = 0;         // 0 = unlimited
};

/// The whole schedule. `default_mbps` applies outside every window; 0 = unlimited.
struct BandwidthPolicy {
  double default_mbps = 0;
  std::vector<BandwidthWindow> windows;

  /// The cap in Mbit/s (0 = unlimited) at a local time; the first matching window wins.
  double mbps_at(const std::tm& local) const;
  /// True when no window and no default ever caps anything.
  bool unlimited() const;
};

/// Parses "mon".."sun" to tm_wday; nullopt otherwise.
std::optional<int> parse_weekday(const std::string& s);
/// Parses "HH:MM" (00:00-24:00) to minutes after midnight; nullopt otherwise.
std::optional<int> parse_clock(const std::string& s);

/// A token bucket in virtual time (GCRA): each call reserves bytes/rate seconds on a shared
/// timeline, so N concurrent transfers share the cap. Thread-safe.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  using LocalNow = std::function<std::tm()>;

  /// `burst` is how far the timeline may lag behind now (credit for idle time).
  explicit RateLimiter(BandwidthPolicy policy, LocalNow local_now = {},
                       std::chrono::milliseconds burst = std::chrono::milliseconds(50));

  /// Blocks until `bytes` may go out at the current cap. Returns false when `cancelled` became
  /// true while waiting (checked every 100 ms).
  bool acquire(std::size_t bytes, const std::function<bool()>& cancelled = {});
  /// Reserves `bytes` at `now` and returns how long the caller must wait (pure; unit-tested).
  Clock::duration reserve(std::size_t bytes, Clock::time_point now);
  /// The cap in force now (Mbit/s, 0 = unlimited).
  double current_mbps();

 private:
  BandwidthPolicy policy_;
  LocalNow local_now_;
  Clock::duration burst_;
  std::mutex mu_;
  Clock::time_point next_{};          // when the timeline is free again
  Clock::time_point checked_at_{};    // the cap is re-read from the calendar once a second
  double mbps_ = 0;
  bool checked_ = false;
};

}  // namespace lightbox::agent::upload
