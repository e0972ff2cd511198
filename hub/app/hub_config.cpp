#include "hub/app/hub_config.hpp"

#include <algorithm>
#include <thread>

namespace lightbox::hub::app {

int HubConfig::io_threads() const {
  if (threads > 0) return static_cast<int>(threads);
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

HubConfig parse_hub_config(const nlohmann::json& j, config::Problems& problems) {
  HubConfig c;
  config::Node root(j, "", problems);
  {
    auto listen = root.child("listen");
    listen.get("address", c.listen_address);
    listen.get_int("port", c.listen_port, 0, 65535);
    listen.finish();
  }
  {
    auto tls = root.child("tls", true);
    tls.get("cert_file", c.tls_cert_file, true);
    tls.get("key_file", c.tls_key_file, true);
    tls.finish();
  }
  root.get("data_dir", c.data_dir, true);
  if (root.has("data_dir") && c.data_dir.empty()) root.problem("data_dir", "must not be empty");
  {
    auto limits = root.child("limits");
    limits.get_int("max_body_bytes", c.max_body_bytes, 1, INT64_MAX);
    limits.get_int("header_timeout_seconds", c.header_timeout_seconds, 1, 3600);
    limits.get_int("idle_timeout_seconds", c.idle_timeout_seconds, 1, 86400);
    limits.get_int("max_connections", c.max_connections, 1, 1000000);
    limits.finish();
  }
  root.get_int("threads", c.threads, 0, 1024);
  root.get_int("shutdown_grace_seconds", c.shutdown_grace_seconds, 0, 3600);
  {
    auto log = root.child("log");
    log.get_enum("level", c.log_level, {"debug", "info", "warn", "error", "off"});
    log.get("file", c.log_file);
    log.finish();
  }
  {
    auto en = root.child("enroll");
    en.get("enabled", c.enroll.enabled);
    en.get_int("cert_days", c.enroll.cert_days, 1, 3650);
    en.get("ca_cert_file", c.enroll.ca_cert_file);
    en.get("ca_key_file", c.enroll.ca_key_file);
    if (c.enroll.ca_cert_file.empty() != c.enroll.ca_key_file.empty())
      en.problem(c.enroll.ca_cert_file.empty() ? "ca_cert_file" : "ca_key_file",
                 "set both enroll.ca_cert_file and enroll.ca_key_file, or neither");
    en.finish();
  }
  if (root.has("alerts")) {
    auto al = root.child("alerts");
    c.alerts = alerts::parse_alerts_config(al);
  }
  root.finish();
  return c;
}

std::optional<HubConfig> load_hub_config(const std::string& path, config::Problems& problems) {
  auto j = config::load_file(path, problems);
  if (!j) {
    std::string msg = j.error().message;
    if (msg.rfind(path + ": ", 0) == 0) msg.erase(0, path.size() + 2);
    problems.add(path, msg);
    return std::nullopt;
  }
  HubConfig c = parse_hub_config(*j, problems);
  if (!problems.empty()) return std::nullopt;
  return c;
}

}  // namespace lightbox::hub::app
