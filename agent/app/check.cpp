// `check`: is the config valid, and can this agent reach everything it needs?
// One line per check, "OK|FAIL name: detail", in plain words for a hospital engineer.
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <filesystem>
#include <iostream>
#include <unistd.h>

#include "agent/app/commands.hpp"
#include "agent/app/config.hpp"
#include "agent/enroll/identity.hpp"
#include "common/fsio/atomic_file.hpp"
#include "common/http/client.hpp"
#include "common/wire/protocol.hpp"

namespace lightbox::agent::app {
namespace {

struct Printer {
  bool all_ok = true;
  void line(bool ok, const std::string& name, const std::string& detail) {
    all_ok = all_ok && ok;
    std::cout << (ok ? "OK " : "FAIL ") << name << ": " << detail << "\n";
  }
};

std::string hub_message(const http::Response& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
  return "HTTP " + std::to_string(r.status);
}

// The enrolled identity (client certificate), when there is one: subject, expiry, key match.
void check_identity(const AgentConfig& cfg, Printer& out) {
  if (!enroll::identity_exists(cfg.hub.identity_dir)) {
    if (cfg.hub.token.empty())
      out.line(false, "identity", "no client certificate in " + cfg.hub.identity_dir + " and no hub.token");
    return;
  }
  auto cert = enroll::read_identity(cfg.hub.identity_dir);
  if (!cert) return out.line(false, "identity", "cannot read " + cfg.hub.identity_dir + "/agent.crt (" + cert.error().message + ")");
  const std::int64_t now = enroll::unix_now();
  const std::string facts = cert->subject + ", valid until " + enroll::iso_time(cert->not_after);
  if (cert->not_after <= now) return out.line(false, "identity", "client certificate EXPIRED: " + facts + " (enroll again)");
  if (cert->not_before > now) return out.line(false, "identity", "client certificate not valid yet (clock?): " + facts);
  if (cert->common_name != cfg.id)
    return out.line(false, "identity", "client certificate is for agent " + cert->common_name + ", not " + cfg.id);
  out.line(true, "identity", facts + (enroll::needs_renewal(*cert, now) ? " (renewal due)" : ""));
}

void check_hub(const AgentConfig& cfg, Printer& out) {
  http::ClientOptions o;
  o.base_url = cfg.hub.url;
  o.ca_file = cfg.hub.ca_file;
  o.token = cfg.hub.token;
  const bool mtls = enroll::apply_identity(cfg.hub.identity_dir, o);
  const std::string credential = mtls ? "client certificate" : "token";
  o.connect_timeout_seconds = cfg.hub.connect_timeout_seconds;
  o.timeout_seconds = std::min<std::int64_t>(cfg.hub.timeout_seconds, 30);
  o.headers.emplace_back(std::string(wire::kHeaderAgent), cfg.id);
  http::Client client(std::move(o));
  auto h = client.get(std::string(wire::kHealthPath), /*authenticate=*/false);
  if (!h) {
    out.line(false, "hub", "cannot reach " + cfg.hub.url + " (" + h.error().message + ")");
    return;
  }
  if (h->status != 200) {
    out.line(false, "hub", cfg.hub.url + std::string(wire::kHealthPath) + " answered HTTP " + std::to_string(h->status));
    return;
  }
  std::string version;
  auto j = nlohmann::json::parse(h->body, nullptr, false);
  if (j.is_object() && j.contains("version") && j["version"].is_string()) version = " version " + j["version"].get<std::string>();
  out.line(true, "hub", cfg.hub.url + " is reachable over TLS" + version);

  auto a = client.get(std::string(wire::kStudiesPath) + "?limit=1", /*authenticate=*/true);
  if (!a) {
    out.line(false, "hub credential", "request failed (" + a.error().message + ")");
  } else if (a->status == 200) {
    out.line(true, "hub credential", "the hub accepted the " + credential + " for agent " + cfg.id);
  } else if (a->status == 401) {
    out.line(false, "hub credential", "the hub rejected the " + credential + " (" + hub_message(*a) + ")");
  } else if (a->status == 403 && a->body.find("\"revoked\"") != std::string::npos) {
    out.line(false, "hub credential", "REVOKED: " + hub_message(*a));
  } else if (a->status == 403) {
    out.line(false, "hub credential", "the " + credential + " does not belong to agent " + cfg.id + " (" + hub_message(*a) + ")");
  } else {
    out.line(false, "hub credential", "unexpected answer " + std::to_string(a->status) + " (" + hub_message(*a) + ")");
  }
}

// Each source checks itself; an in-memory seen-set keeps `check` from touching queue.db.
void check_sources(const AgentConfig& cfg, Printer& out) {
  auto seen = sources::SeenStore::open(":memory:");
  if (!seen) return out.line(false, "sources", "cannot prepare the check: " + seen.error().message);
  log::Logger quiet(log::Level::off);
  for (const auto& spec : cfg.sources) {
    SourceContext ctx{*seen, cfg.data_dir + "/staging/" + spec.name, quiet, ":memory:"};
    auto src = spec.build(ctx);
    auto r = src->check();
    out.line(r.ok(), "source " + spec.name, r.ok() ? *r : r.error().message);
  }
}

void check_data_dir(const AgentConfig& cfg, Printer& out) {
  std::error_code ec;
  if (!std::filesystem::exists(cfg.data_dir, ec)) {
    // `check` changes nothing: report whether `run` will be able to create it.
    std::filesystem::path parent = std::filesystem::absolute(cfg.data_dir, ec).parent_path();
    while (!parent.empty() && !std::filesystem::exists(parent, ec) && parent != parent.root_path())
      parent = parent.parent_path();
    if (::access(parent.c_str(), W_OK) != 0)
      return out.line(false, "data_dir", cfg.data_dir + " does not exist and " + parent.string() + " is not writable");
    auto space = fsio::disk_space(parent.string());
    std::string free_text = space.ok() ? ", " + std::to_string(space->free >> 30) + " GB free" : "";
    return out.line(true, "data_dir", cfg.data_dir + " does not exist yet; run will create it" + free_text);
  }
  std::string probe = cfg.data_dir + "/.check-write";
  if (auto s = fsio::write_file_atomic(probe, "ok\n"); !s)
    return out.line(false, "data_dir", cfg.data_dir + " is not writable (" + s.error().message + ")");
  ::unlink(probe.c_str());
  auto space = fsio::disk_space(cfg.data_dir);
  if (!space) return out.line(false, "data_dir", "cannot read free space (" + space.error().message + ")");
  const double gb = static_cast<double>(space->free) / (1024.0 * 1024 * 1024);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f GB free", gb);
  if (space->free < (256ull << 20))
    return out.line(false, "data_dir", cfg.data_dir + " is writable but nearly full (" + buf + ")");
  out.line(true, "data_dir", cfg.data_dir + " is writable, " + buf);
}

}  // namespace

int check_command(const std::string& config_path) {
  config::Problems problems;
  AgentConfig cfg = load_config(config_path, problems);
  if (!problems.empty()) {
    std::cout << problems.to_string();
    return 1;
  }
  http::GlobalInit curl;
  Printer out;
  out.line(true, "config", config_path + " is valid");
  check_identity(cfg, out);
  check_hub(cfg, out);
  check_sources(cfg, out);
  check_data_dir(cfg, out);
  return out.all_ok ? 0 : 1;
}

}  // namespace lightbox::agent::app
