#include "agent/app/config.hpp"

#include <algorithm>
#include <set>

#include "agent/enroll/identity.hpp"
#include "agent/metrics/listen.hpp"

namespace lightbox::agent::app {
namespace {

bool is_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

void read_source(config::Node& n, AgentConfig& cfg, std::set<std::string>& names) {
  SourceSpec spec;
  n.get("name", spec.name, true);
  if (n.has("name") && !is_name(spec.name)) n.problem("name", "must be 1-64 letters, digits, '-', '_' or '.'");
  if (!spec.name.empty() && !names.insert(spec.name).second)
    n.problem("name", "duplicate source name '" + spec.name + "'");
  std::vector<std::string_view> words;
  for (const auto& k : source_kinds()) words.push_back(k.kind);
  n.get_enum("kind", spec.kind, words, true);
  n.get_int("poll_seconds", spec.poll_seconds, 1, 86400);
  for (const auto& k : source_kinds()) {
    if (k.kind == spec.kind) {
      spec.build = k.parse(n, spec);
      n.finish();  // unknown keys only make sense once the kind's own keys were read
      break;
    }
  }
  cfg.sources.push_back(std::move(spec));
}

// `upload.bandwidth`: {"default_mbps": 0, "windows": [{"days": [...], "start": "08:00", "end": "18:00", "mbps": 20}]}
void read_bandwidth(config::Node bw, upload::BandwidthPolicy& out, config::Problems& problems) {
  bw.get("default_mbps", out.default_mbps);
  if (out.default_mbps < 0) bw.problem("default_mbps", "must be >= 0 (0 = unlimited)");
  auto windows = bw.items("windows");
  for (std::size_t i = 0; i < windows.size(); ++i) {
    auto& w = windows[i];
    upload::BandwidthWindow win;
    std::vector<std::string> days;
    std::string start, end;
    w.get("days", days, true);
    w.get("start", start, true);
    w.get("end", end, true);
    w.get("mbps", win.mbps, true);
    for (std::size_t d = 0; d < days.size(); ++d) {
      auto day = upload::parse_weekday(days[d]);
      if (!day) problems.add(w.key_path("days") + "[" + std::to_string(d) + "]", "must be one of mon, tue, wed, thu, fri, sat, sun (got '" + days[d] + "')");
      else win.days.push_back(*day);
    }
    if (w.has("days") && days.empty()) w.problem("days", "must name at least one day");
    auto s = upload::parse_clock(start), e = upload::parse_clock(end);
    if (w.has("start") && !s) w.problem("start", "must be HH:MM (local time)");
    if (w.has("end") && !e) w.problem("end", "must be HH:MM (local time)");
    if (s) win.start_minute = *s;
    if (e) win.end_minute = *e;
    if (s && e && *s == *e) w.problem("end", "must differ from start");
    if (win.mbps < 0) w.problem("mbps", "must be >= 0 (0 = unlimited)");
    w.finish();
    out.windows.push_back(std::move(win));
  }
  bw.finish();
}

}  // namespace

AgentConfig parse_config(const nlohmann::json& j, config::Problems& problems) {
  AgentConfig cfg;
  config::Node root(j, "", problems);

  auto agent = root.child("agent", true);
  agent.get("id", cfg.id, true);
  if (agent.has("id") && !is_name(cfg.id)) agent.problem("id", "must be 1-64 letters, digits, '-', '_' or '.'");
  agent.get("data_dir", cfg.data_dir, true);
  if (agent.has("data_dir") && cfg.data_dir.empty()) agent.problem("data_dir", "must not be empty");
  agent.get_int("min_free_mb", cfg.min_free_mb, 0, 1 << 20);
  agent.finish();

  auto hub = root.child("hub", true);
  hub.get("url", cfg.hub.url, true);
  if (hub.has("url") && cfg.hub.url.rfind("https://", 0) != 0) hub.problem("url", "must start with https://");
  hub.get("ca_file", cfg.hub.ca_file);
  std::string token;
  hub.get("token", token);
  bool token_problem = false;  // e.g. its ${ENV} was not set: one message is enough
  for (const auto& e : problems.list()) token_problem = token_problem || e.field == "hub.token";
  if (hub.has("token") && token.empty() && !token_problem) hub.problem("token", "must not be empty");
  cfg.hub.token = log::Secret(std::move(token));
  hub.get("identity_dir", cfg.hub.identity_dir);
  if (hub.has("identity_dir") && cfg.hub.identity_dir.empty()) hub.problem("identity_dir", "must not be empty");
  if (cfg.hub.identity_dir.empty() && !cfg.data_dir.empty()) cfg.hub.identity_dir = cfg.data_dir + "/identity";
  // Without a token the agent needs its enrolled identity (client certificate) to talk to the hub.
  if (!hub.has("token") && !cfg.hub.identity_dir.empty() && !enroll::identity_exists(cfg.hub.identity_dir))
    hub.problem("token", "is required until the agent is enrolled (`lightbox-agent enroll`): no identity in " +
                             cfg.hub.identity_dir);
  hub.get_int("connect_timeout_seconds", cfg.hub.connect_timeout_seconds, 1, 600);
  hub.get_int("timeout_seconds", cfg.hub.timeout_seconds, 1, 86400);
  hub.finish();

  auto up = root.child("upload");
  up.get_int("concurrency", cfg.upload.concurrency, 1, 64);
  up.get_int("retry_initial_seconds", cfg.upload.retry_initial_seconds, 1, 3600);
  up.get_int("retry_max_seconds", cfg.upload.retry_max_seconds, 1, 86400);
  if (cfg.upload.retry_max_seconds < cfg.upload.retry_initial_seconds)
    up.problem("retry_max_seconds", "must be >= upload.retry_initial_seconds");
  up.get_int("stop_grace_seconds", cfg.upload.stop_grace_seconds, 0, 3600);
  if (up.has("bandwidth")) read_bandwidth(up.child("bandwidth"), cfg.upload.bandwidth, problems);
  up.finish();

  auto ver = root.child("verify");
  ver.get("allow_lossy", cfg.verify.dicom.allow_lossy);
  ver.get("allow_raw_dataset", cfg.verify.dicom.allow_raw_dataset);
  ver.get("attachments", cfg.verify.attachments);
  for (std::size_t i = 0; i < cfg.verify.attachments.size(); ++i) {
    auto& a = cfg.verify.attachments[i];
    std::transform(a.begin(), a.end(), a.begin(), [](unsigned char c) { return std::tolower(c); });
    if (a != "pdf" && a != "jpg" && a != "jpeg")
      problems.add(ver.key_path("attachments") + "[" + std::to_string(i) + "]",
                   "must be one of: pdf, jpg, jpeg (got '" + a + "')");
  }
  ver.finish();

  std::set<std::string> names;
  auto srcs = root.items("sources", true);
  if (root.has("sources") && srcs.empty() && j["sources"].is_array() && j["sources"].empty())
    root.problem("sources", "must list at least one source");
  for (auto& n : srcs) read_source(n, cfg, names);

  auto rep = root.child("report");
  rep.get_int("heartbeat_seconds", cfg.report.heartbeat_seconds, 0, 3600);
  cfg.report.heartbeat_explicit = rep.has("heartbeat_seconds");
  rep.finish();

  auto lg = root.child("log");
  lg.get_enum("level", cfg.log.level, {"debug", "info", "warn", "error", "off"});
  lg.get("file", cfg.log.file);
  lg.finish();

  auto met = root.child("metrics");
  met.get("listen", cfg.metrics.listen);
  if (met.has("listen")) {
    if (auto ep = metrics::parse_listen(cfg.metrics.listen); !ep) met.problem("listen", ep.error().message);
  }
  met.finish();

  root.finish();
  return cfg;
}

AgentConfig load_config(const std::string& path, config::Problems& problems, ConfigUse use) {
  config::Problems all;
  auto j = config::load_file(path, all);
  AgentConfig cfg;
  if (!j)
    all.add("(file)", j.error().message);
  else
    cfg = parse_config(*j, all);
  for (const auto& e : all.list()) {
    // status/requeue only read the local queue: an unset secret (${ENV} or ${file:...}) is
    // the service's business, not theirs.
    const bool secret_missing = e.message.rfind("environment variable ", 0) == 0 || e.message.rfind("secret file ", 0) == 0;
    if (use == ConfigUse::local && secret_missing) continue;
    if (use == ConfigUse::local && e.field == "hub.token") continue;  // not enrolled yet: no matter here
    problems.add(e.field, e.message);
  }
  return cfg;
}

}  // namespace lightbox::agent::app
