#pragma once
// Stable-file detection for remote listings: a file is ready once its size and mtime stayed the
// same across scans for stable_seconds. Servers report whole-second mtimes, so "unchanged"
// compares seconds and the wait is measured on the agent's own monotonic clock.
#include <cstdint>
#include <map>
#include <string>

namespace lightbox::agent::sources::sftp {

/// Files seen but not collected yet, with when they were first seen unchanged.
class StableFiles {
 public:
  explicit StableFiles(std::int64_t stable_ms) : stable_ms_(stable_ms) {}

  /// Records one listing entry of the current scan; true when it has been unchanged for
  /// stable_ms. A changed size or mtime restarts its clock.
  bool observe(const std::string& rel_path, std::uint64_t size, std::int64_t mtime_s, std::int64_t now_ms);
  /// Ends a scan: files not observed since the previous end_scan are forgotten.
  void end_scan();
  /// Forgets a file (collected, or to be looked at afresh).
  void forget(const std::string& rel_path);
  /// Restarts a file's clock (for example: it changed while it was downloaded).
  void restart(const std::string& rel_path, std::int64_t now_ms);
  /// Files being watched.
  std::size_t size() const { return files_.size(); }

 private:
  struct Seen {
    std::uint64_t size;
    std::int64_t mtime_s;
    std::int64_t since_ms;
    bool observed;  // in the scan under way
  };
  std::int64_t stable_ms_;
  std::map<std::string, Seen> files_;
};

}  // namespace lightbox::agent::sources::sftp
