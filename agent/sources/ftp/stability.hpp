#pragma once
// Stable-file detection for remote listings: a file is stable once its size and mtime stayed
// the same across scans spanning stable_seconds of the agent's own monotonic clock. Server and
// agent clocks are never compared (skew and time zones do not matter), and mtimes are
// compared at one-second resolution, which is all FTP servers give.
#include <cstdint>
#include <map>
#include <string>

namespace lightbox::agent::sources::ftp {

/// Remembers when each file was first seen with its current size and mtime.
class StabilityTracker {
 public:
  explicit StabilityTracker(std::int64_t stable_ms) : stable_ms_(stable_ms) {}

  /// Records one observation made at `now_ms`; true when the file is stable. A change of size
  /// or mtime (at one-second resolution) starts the clock again.
  bool observe(const std::string& key, std::uint64_t size, std::int64_t mtime_s, std::int64_t now_ms) {
    auto [it, fresh] = next_.try_emplace(key, Seen{size, mtime_s, now_ms});
    if (!fresh) return now_ms - it->second.since_ms >= stable_ms_;
    if (auto old = current_.find(key);
        old != current_.end() && old->second.size == size && old->second.mtime_s == mtime_s) {
      it->second.since_ms = old->second.since_ms;
      return now_ms - it->second.since_ms >= stable_ms_;
    }
    return false;
  }
  /// Starts over the clock of a file (it changed while being downloaded).
  void restart(const std::string& key, std::int64_t now_ms) {
    if (auto it = next_.find(key); it != next_.end()) it->second.since_ms = now_ms;
  }
  /// Ends a scan: files not observed in it (gone, or collected) are forgotten.
  void end_scan() {
    current_ = std::move(next_);
    next_.clear();
  }
  /// Forgets a file (it is collected).
  void forget(const std::string& key) {
    current_.erase(key);
    next_.erase(key);
  }
  /// Files being watched (seen, not yet collected).
  std::size_t size() const { return current_.size(); }

 private:
  struct Seen {
    std::uint64_t size;
    std::int64_t mtime_s;
    std::int64_t since_ms;
  };
  std::int64_t stable_ms_;
  std::map<std::string, Seen> current_;  // as of the last finished scan
  std::map<std::string, Seen> next_;     // built by the scan in progress
};

}  // namespace lightbox::agent::sources::ftp
