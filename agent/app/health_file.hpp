#pragma once
// data_dir/health.json: what the running agent knows about itself that queue.db cannot say —
// the spool disk being full, the last queue self-check. Written in place at a fixed size, so
// it can still be updated when the disk has no free block left; `status` merges it in.
#include <cstdint>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/queue/self_check.hpp"

namespace lightbox::agent::app {

/// The health file of one data_dir. Thread-safe.
class HealthFile {
 public:
  static constexpr std::size_t kSize = 2048;  // fixed size, padded with spaces

  /// Opens (creating at kSize) `path`; keeps the last self-check found in an existing file.
  explicit HealthFile(std::string path);
  ~HealthFile();
  HealthFile(const HealthFile&) = delete;
  HealthFile& operator=(const HealthFile&) = delete;

  /// Spool disk state.
  void set_disk(bool full, std::int64_t free_mb, std::int64_t min_free_mb);
  /// The self-check that set a damaged queue.db aside.
  void set_self_check(const queue::SelfCheckReport& r);

  /// Reads a health file (empty object when missing or unreadable).
  static nlohmann::json read(const std::string& path);

 private:
  void write_locked();

  std::string path_;
  int fd_ = -1;
  std::mutex mu_;
  nlohmann::json doc_ = nlohmann::json::object();
};

}  // namespace lightbox::agent::app
