#pragma once
// The agent's heartbeat: every `report.heartbeat_seconds` (±10 % jitter) one POST /api/v1/heartbeats
// with the queue, the sources, the spool disk, this process and the host. Own thread, own
// http::Client; a failed beat is logged and changes nothing else.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "agent/report/status.hpp"
#include "common/http/client.hpp"
#include "common/log/logger.hpp"

namespace lightbox::agent::report {

/// This process's and the host's resources, from /proc (-1 / negative = unknown).
struct HostStats {
  std::int64_t rss_bytes = -1;
  std::int64_t mem_total_bytes = -1;
  std::int64_t mem_available_bytes = -1;
  double load1 = -1, load5 = -1, load15 = -1;
};

/// Value in bytes of a "Key:   123 kB" line of /proc/self/status or /proc/meminfo; -1 if absent.
std::int64_t proc_kb_field(std::string_view text, std::string_view key);
/// Reads /proc/self/status, /proc/meminfo and /proc/loadavg under `proc_root`.
HostStats read_host_stats(const std::string& proc_root = "/proc");

/// Everything one beat reports, gathered before the JSON is built.
struct BeatInputs {
  std::string version;
  std::int64_t interval_s = 30;
  std::int64_t uptime_s = 0;
  std::string config_sha256;
  std::int64_t clock_ms = 0;
  Snapshot snapshot;                // queue counts and sources
  std::int64_t uploaded_items = 0;  // since the previous beat
  std::int64_t uploaded_bytes = 0;
  std::map<std::string, std::int64_t>
      errors;  // last_error_code -> items settled with it since the previous beat
  std::int64_t spool_total = 0;
  std::int64_t spool_free = 0;
  bool disk_full = false;
  HostStats host;
};

/// The heartbeat body (docs/api.md, "Fleet").
nlohmann::json build_heartbeat(const BeatInputs& in);

/// Counts of last_error_code over queue items updated after `since_ms` (read-only; missing DB = none).
Result<std::map<std::string, std::int64_t>> errors_since(const std::string& db_path, std::int64_t since_ms);

/// What the heartbeat needs from the running agent.
struct HeartbeatOptions {
  http::ClientOptions client;  // hub url, CA, token, X-Lightbox-Agent
  std::int64_t interval_s = 30;
  std::string version;
  std::string config_path;  // hashed once (config digest)
  std::string queue_db;
  std::string spool_dir;
  std::function<std::pair<std::int64_t, std::int64_t>()> uploaded_totals;  // (items, bytes) so far
  std::function<bool()> disk_full;
};

/// The beat thread.
class Heartbeat {
 public:
  Heartbeat(HeartbeatOptions opts, log::Logger& log);
  ~Heartbeat();
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  /// Starts the thread; the first beat goes out at once.
  void start();
  /// Stops the thread (an in-flight request is aborted) and waits for it.
  void stop();
  /// Gathers and posts one beat on the caller's thread; true when the hub answered 200.
  bool beat_once();

 private:
  void loop();
  BeatInputs gather();

  HeartbeatOptions opts_;
  log::Logger& log_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::string config_sha256_;
  std::int64_t last_beat_ms_ = 0;
  std::int64_t last_items_ = 0, last_bytes_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
  std::unique_ptr<http::Client> client_;
};

}  // namespace lightbox::agent::report
