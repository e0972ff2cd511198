#pragma once
// The agent's typed config, read eagerly from JSONC. Every problem names its full JSON path.
#include <string>
#include <vector>

#include "agent/app/source_kinds.hpp"
#include "agent/upload/rate_limit.hpp"
#include "agent/verify/verifier.hpp"
#include "common/config/reader.hpp"
#include "common/log/logger.hpp"

namespace lightbox::agent::app {

/// `hub` section.
struct HubConfig {
  std::string url;
  std::string ca_file;
  log::Secret token;          // optional once the agent is enrolled (mutual TLS)
  std::string identity_dir;   // `hub.identity_dir`, default <data_dir>/identity
  std::int64_t connect_timeout_seconds = 10;
  std::int64_t timeout_seconds = 300;
};

/// `upload` section.
struct UploadSection {
  std::int64_t concurrency = 4;
  std::int64_t retry_initial_seconds = 1;
  std::int64_t retry_max_seconds = 300;
  upload::BandwidthPolicy bandwidth;    // `upload.bandwidth`: cap + calendar windows (local time)
  std::int64_t stop_grace_seconds = 10; // on SIGTERM, in-flight transfers get this long to finish
};

/// `report` section (optional).
struct ReportSection {
  std::int64_t heartbeat_seconds = 30;  // 0 = no heartbeats
  bool heartbeat_explicit = false;      // set in the file: --once then sends one final beat
};

/// `log` section.
struct LogConfig {
  std::string level = "info";
  std::string file;
};

/// `metrics` section (optional): the local Prometheus endpoint of `run`.
struct MetricsSection {
  std::string listen;  // "127.0.0.1:9464"; empty = off; loopback only
};

/// The whole agent config.
struct AgentConfig {
  std::string id;
  std::string data_dir;
  std::int64_t min_free_mb = 256;  // `agent.min_free_mb`: collection pauses below this much free space
  HubConfig hub;
  UploadSection upload;
  verify::Policy verify;
  std::vector<SourceSpec> sources;
  ReportSection report;
  LogConfig log;
  MetricsSection metrics;

  std::string queue_db() const { return data_dir + "/queue.db"; }
};

/// Reads a parsed JSON document; problems are added to `problems`, never thrown.
AgentConfig parse_config(const nlohmann::json& j, config::Problems& problems);
/// What the config is loaded for: `run`/`check` need everything; `status`/`requeue` only touch
/// the local queue and ignore secrets that cannot be resolved.
enum class ConfigUse { run, local };

/// Loads and parses a file. An unreadable or non-JSON file is one problem at the top level.
AgentConfig load_config(const std::string& path, config::Problems& problems, ConfigUse use = ConfigUse::run);

}  // namespace lightbox::agent::app
