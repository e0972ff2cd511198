#include "hub/app/enroll_commands.hpp"

#include <chrono>
#include <filesystem>
#include <iostream>

namespace lightbox::hub::app {
namespace {

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int print_error(const Error& e) {
  std::cerr << (e.field.empty() ? std::string("error") : e.field) << ": " << e.message << "\n";
  return 1;
}

}  // namespace

Result<std::unique_ptr<EnrollStack>> open_enroll(const HubConfig& cfg) {
  if (!cfg.enroll.enabled) return std::unique_ptr<EnrollStack>();
  enroll::AuthorityOptions o;
  o.ca_dir = cfg.data_dir + "/ca";
  o.ca_cert_file = cfg.enroll.ca_cert_file;
  o.ca_key_file = cfg.enroll.ca_key_file;
  o.cert_days = static_cast<int>(cfg.enroll.cert_days);
  auto ca = enroll::Authority::open(o);
  if (!ca) return std::move(ca).error();
  auto repo = enroll::EnrollRepository::open(cfg.index_path());
  if (!repo) return std::move(repo).error();
  auto stack = std::unique_ptr<EnrollStack>(new EnrollStack{std::move(*ca), std::move(*repo), nullptr});
  stack->service = std::make_unique<enroll::EnrollService>(stack->authority, *stack->repo);
  return stack;
}

void check_enroll(const HubConfig& cfg, config::Problems& problems) {
  if (!cfg.enroll.enabled) return;
  std::error_code ec;
  const std::string dir = cfg.data_dir + "/ca";
  const bool configured = !cfg.enroll.ca_cert_file.empty();
  if (!configured && !std::filesystem::exists(dir + "/ca.crt", ec) && !std::filesystem::exists(dir + "/ca.key", ec))
    return;  // serve creates it on first start
  enroll::AuthorityOptions o{dir, cfg.enroll.ca_cert_file, cfg.enroll.ca_key_file, static_cast<int>(cfg.enroll.cert_days)};
  if (auto ca = enroll::Authority::open(o); !ca)
    problems.add(ca.error().field.empty() ? "enroll" : ca.error().field, ca.error().message);
}

Status revoke_agent_certificates(const HubConfig& cfg, const std::string& agent) {
  auto repo = enroll::EnrollRepository::open(cfg.index_path());
  if (!repo) return std::move(repo).error();
  auto n = (*repo)->revoke_certs(agent);
  if (!n) return std::move(n).error();
  return {};
}

int run_enroll_admin(const HubConfig& cfg, const Args& args, const std::string& verb) {
  if (verb == "enroll-token") {
    auto inst = args.option("institution");
    if (!inst || inst->empty()) {
      std::cerr << "--institution: is required\n";
      return 2;
    }
    std::int64_t ttl = 24;
    if (auto t = args.option("ttl-hours")) {
      try {
        std::size_t used = 0;
        ttl = std::stoll(*t, &used);
        if (used != t->size()) throw std::invalid_argument("trailing");
      } catch (const std::exception&) {
        std::cerr << "--ttl-hours: must be a whole number of hours\n";
        return 2;
      }
    }
    auto stack = open_enroll(cfg);
    if (!stack) return print_error(stack.error());
    if (!*stack) {
      std::cerr << "enroll.enabled: enrollment is switched off in the config\n";
      return 1;
    }
    auto t = (*stack)->service->create_token(*inst, args.option("agent").value_or(""), ttl, now_s());
    if (!t) return print_error(t.error());
    if (args.flag("json"))
      std::cout << nlohmann::json{{"token", t->token},
                                  {"institution", t->institution},
                                  {"agent", t->agent.empty() ? nlohmann::json(nullptr) : nlohmann::json(t->agent)},
                                  {"expires_at", enroll::iso_utc(t->expires_at)}}
                       .dump()
                << "\n";
    else
      std::cout << t->token << "\n";
    return 0;
  }
  if (verb == "list-certs") {
    auto repo = enroll::EnrollRepository::open(cfg.index_path());
    if (!repo) return print_error(repo.error());
    auto certs = (*repo)->list_certs();
    if (!certs) return print_error(certs.error());
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& c : *certs)
      arr.push_back({{"agent", c.agent},
                     {"institution", c.institution},
                     {"serial", c.serial},
                     {"fingerprint", c.fingerprint},
                     {"not_before", enroll::iso_utc(c.not_before)},
                     {"not_after", enroll::iso_utc(c.not_after)},
                     {"issued_at", c.issued_at},
                     {"revoked", c.revoked_at.has_value() || c.agent_revoked},
                     {"revoked_at", c.revoked_at ? nlohmann::json(*c.revoked_at) : nlohmann::json(nullptr)}});
    std::cout << nlohmann::json{{"certificates", arr}}.dump() << "\n";
    return 0;
  }
  return -1;
}

}  // namespace lightbox::hub::app
