// lightbox-agent: parses the subcommand and its flags, nothing else.
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

#include "agent/app/commands.hpp"

namespace {

constexpr const char* kUsage =
    "usage: lightbox-agent <command> --config FILE [options]\n"
    "  run [--once]                    collect, verify, queue and upload (--once: until nothing is left)\n"
    "  check                           validate the config, reach the hub and every source\n"
    "  status [--json]                 queue counts, backlog, recent errors, quarantine\n"
    "  requeue --all-failed | --id N   retry failed and quarantined items (or one of them)\n"
    "  enroll --hub URL --token T      get a client certificate from the hub (one-time token from\n"
    "         [--agent ID]             `lightbox-hub admin enroll-token`); then no hub.token is needed\n"
    "  renew                           renew the client certificate now (run does it when 1/3 is left)\n"
    "  install-service [--user U]      register `run --config FILE` of this binary as a service\n"
    "                  [--unit-dir D]  (write the unit into D instead of /etc/systemd/system)\n"
    "                                  (--config defaults to /etc/lightbox/agent.jsonc, --user to lightbox)\n"
    "  uninstall-service               stop, disable and remove that service (config and data kept)\n";

int usage(const std::string& problem) {
  if (!problem.empty()) std::cerr << "lightbox-agent: " << problem << "\n";
  std::cerr << kUsage;
  return problem.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage("missing command");
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") return usage("");
  std::string config;
  bool once = false, json = false, all_failed = false;
  std::optional<std::int64_t> id;
  std::string user, unit_dir;
  lightbox::agent::app::EnrollOptions enroll_opts;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) {
      config = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      config = a.substr(9);
    } else if (a == "--once") {
      once = true;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--user" && i + 1 < argc) {
      user = argv[++i];
    } else if (a == "--unit-dir" && i + 1 < argc) {
      unit_dir = argv[++i];
    } else if (a == "--hub" && i + 1 < argc) {
      enroll_opts.hub_url = argv[++i];
    } else if (a == "--token" && i + 1 < argc) {
      enroll_opts.token = argv[++i];
    } else if (a == "--agent" && i + 1 < argc) {
      enroll_opts.agent = argv[++i];
    } else if (a == "--all-failed") {
      all_failed = true;
    } else if (a == "--id" && i + 1 < argc) {
      char* end = nullptr;
      long long v = std::strtoll(argv[++i], &end, 10);
      if (!end || *end != '\0' || v <= 0) return usage("--id needs a positive item number");
      id = v;
    } else {
      return usage("unknown option " + a);
    }
  }
  using namespace lightbox::agent::app;
  if (cmd == "install-service" || cmd == "uninstall-service") {
    ServiceOptions o;
    if (!config.empty()) o.config_path = config;
    if (!user.empty()) o.user = user;
    o.unit_dir = unit_dir;
    return cmd == "install-service" ? install_service_command(o) : uninstall_service_command(o);
  }
  if (config.empty()) return usage("--config FILE is required");
  if (cmd == "run") return run_command(config, once);
  if (cmd == "check") return check_command(config);
  if (cmd == "enroll") return enroll_command(config, enroll_opts);
  if (cmd == "renew") return renew_command(config);
  if (cmd == "status") return status_command(config, json);
  if (cmd == "requeue") return requeue_command(config, all_failed, id);
  return usage("unknown command " + cmd);
}
