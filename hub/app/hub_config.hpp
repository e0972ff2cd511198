#pragma once
// The hub's typed configuration, read eagerly from JSONC (config/hub.example.jsonc lists every key).
#include <cstdint>
#include <optional>
#include <string>

#include "common/config/reader.hpp"
#include "hub/alerts/config.hpp"

namespace lightbox::hub::app {

/// `enroll` section: the CA that signs agents' client certificates (mutual TLS).
struct EnrollSection {
  bool enabled = true;
  std::int64_t cert_days = 365;
  std::string ca_cert_file;  // both empty = <data_dir>/ca/ca.crt + ca.key, created on first use
  std::string ca_key_file;
};

/// Everything `lightbox-hub` reads from its config file. Relative paths are relative to the
/// working directory.
struct HubConfig {
  std::string listen_address = "127.0.0.1";
  std::int64_t listen_port = 8443;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string data_dir;
  std::int64_t max_body_bytes = 4294967296LL;
  std::int64_t header_timeout_seconds = 30;
  std::int64_t idle_timeout_seconds = 120;
  std::int64_t max_connections = 512;
  std::int64_t threads = 0;  // 0 = hardware concurrency
  std::int64_t shutdown_grace_seconds = 20;
  std::string log_level = "info";
  std::string log_file;  // empty = stderr
  EnrollSection enroll;
  std::optional<alerts::AlertsConfig> alerts;  // absent = no alerting

  /// The index database inside data_dir.
  std::string index_path() const { return data_dir + "/index.db"; }
  /// `threads` with 0 resolved to the hardware concurrency.
  int io_threads() const;
};

/// Reads and validates the config; every problem (including unknown keys) lands in `problems`.
/// Returns nullopt when the file cannot be read or parsed at all, or any problem was found.
std::optional<HubConfig> load_hub_config(const std::string& path, config::Problems& problems);
/// Same, from JSON already parsed (tests).
HubConfig parse_hub_config(const nlohmann::json& j, config::Problems& problems);

}  // namespace lightbox::hub::app
