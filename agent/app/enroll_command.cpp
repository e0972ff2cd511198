// `enroll` and `renew`: get (or refresh) the agent's client certificate from the hub. The key is
// generated here and never leaves <identity_dir>; see agent/enroll.
#include <cstdlib>
#include <iostream>

#include "agent/app/commands.hpp"
#include "agent/app/config.hpp"
#include "agent/enroll/enroller.hpp"
#include "agent/enroll/identity.hpp"
#include "agent/app/renewal_hook.hpp"

namespace lightbox::agent::app {
namespace {

std::string expiry_text(const crypto::CertInfo& c) { return enroll::iso_time(c.not_after); }

int refused(const char* what, const Error& e) {
  std::cerr << "lightbox-agent " << what << ": " << (e.field == "revoked" ? "refused, this agent was revoked: " : "")
            << e.message << "\n";
  return 1;
}

}  // namespace

int enroll_command(const std::string& config_path, const EnrollOptions& opts) {
  config::Problems all;
  // Before enrollment there is neither a token nor an identity, and --hub may stand in for hub.url.
  AgentConfig cfg = load_config(config_path, all, ConfigUse::local);
  config::Problems problems;
  for (const auto& e : all.list()) {
    if (e.field == "hub.token") continue;
    if (e.field == "hub.url" && !opts.hub_url.empty()) continue;
    problems.add(e.field, e.message);
  }
  if (!problems.empty()) {
    std::cerr << problems.to_string();
    return 1;
  }
  std::string token = opts.token;
  if (token.empty())
    if (const char* env = std::getenv("LIGHTBOX_ENROLL_TOKEN")) token = env;
  if (token.empty()) {
    std::cerr << "lightbox-agent enroll: --token (or LIGHTBOX_ENROLL_TOKEN) is required\n";
    return 1;
  }
  if (!opts.agent.empty() && opts.agent != cfg.id) {
    std::cerr << "lightbox-agent enroll: --agent " << opts.agent << " differs from agent.id '" << cfg.id
              << "' in " << config_path << " (the hub checks that uploads come from the certificate's agent)\n";
    return 1;
  }
  enroll::HubEndpoint hub;
  hub.url = opts.hub_url.empty() ? cfg.hub.url : opts.hub_url;
  if (hub.url.rfind("https://", 0) != 0) {
    std::cerr << "lightbox-agent enroll: --hub must start with https://\n";
    return 1;
  }
  hub.ca_file = cfg.hub.ca_file;
  hub.connect_timeout_seconds = cfg.hub.connect_timeout_seconds;
  http::GlobalInit curl;
  auto r = enroll::enroll_agent(hub, log::Secret(token), cfg.id, cfg.hub.identity_dir);
  if (!r) return refused("enroll", r.error());
  std::cout << "enrolled agent " << r->agent << " of institution " << r->institution << "\n"
            << "certificate: " << r->cert.subject << ", valid until " << expiry_text(r->cert) << "\n"
            << "identity: " << cfg.hub.identity_dir << " (agent.key, agent.crt, hub-ca.crt)\n";
  if (hub.url != cfg.hub.url) std::cout << "note: set hub.url to " << hub.url << " in " << config_path << "\n";
  return 0;
}

int renew_command(const std::string& config_path) {
  config::Problems problems;
  AgentConfig cfg = load_config(config_path, problems, ConfigUse::local);
  if (!problems.empty()) {
    std::cerr << problems.to_string();
    return 1;
  }
  enroll::HubEndpoint hub{cfg.hub.url, cfg.hub.ca_file, static_cast<long>(cfg.hub.connect_timeout_seconds), 60};
  http::GlobalInit curl;
  auto r = enroll::renew_identity(hub, cfg.id, cfg.hub.identity_dir);
  if (!r) return refused("renew", r.error());
  std::cout << "renewed: " << r->cert.subject << ", valid until " << expiry_text(r->cert) << "\n";
  return 0;
}

}  // namespace lightbox::agent::app

namespace lightbox::agent::app {

std::unique_ptr<enroll::Renewal> make_renewal(const AgentConfig& cfg, log::Logger& log) {
  if (!enroll::identity_exists(cfg.hub.identity_dir)) return nullptr;
  enroll::RenewalOptions o;
  o.hub = {cfg.hub.url, cfg.hub.ca_file, static_cast<long>(cfg.hub.connect_timeout_seconds), 60};
  o.agent = cfg.id;
  o.identity_dir = cfg.hub.identity_dir;
  return std::make_unique<enroll::Renewal>(std::move(o), log);
}

}  // namespace lightbox::agent::app
