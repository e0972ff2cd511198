#pragma once
// The subcommands. main.cpp parses argv and calls one of these; each returns the exit code.
#include <cstdint>
#include <optional>
#include <string>

namespace lightbox::agent::app {

/// `run [--once]`: collect, verify, queue and upload until stopped (or until done with --once).
int run_command(const std::string& config_path, bool once);
/// `check`: config problems, then hub / credential / sources / data_dir reachability.
int check_command(const std::string& config_path);
/// `status [--json]`: queue counts, backlog, errors, quarantine, sources (read-only).
int status_command(const std::string& config_path, bool json);
/// `requeue --all-failed | --id N`: failed items back to verified, quarantined to re-verify.
int requeue_command(const std::string& config_path, bool all_failed, std::optional<std::int64_t> id);

/// Options of `enroll` (enroll_command.cpp).
struct EnrollOptions {
  std::string hub_url;  // --hub; empty = hub.url from the config
  std::string token;    // --token; empty = $LIGHTBOX_ENROLL_TOKEN
  std::string agent;    // --agent; must equal agent.id when given
};
/// `enroll --hub URL --token T [--agent ID]`: key + CSR -> client certificate in hub.identity_dir.
int enroll_command(const std::string& config_path, const EnrollOptions& options);
/// `renew`: a new key and certificate now, over mutual TLS with the current one.
int renew_command(const std::string& config_path);

/// Options of `install-service` / `uninstall-service`.
struct ServiceOptions {
  std::string config_path = "/etc/lightbox/agent.jsonc";  // passed to `run --config`
  std::string user = "lightbox";                          // the account the service runs as
  std::string unit_dir;                                   // empty = the system's (tests: a temp dir)
};
/// `install-service`: registers `run --config F` of this binary as a service (systemd / SCM).
int install_service_command(const ServiceOptions& options);
/// `uninstall-service`: stops, disables and removes the service; keeps config and data.
int uninstall_service_command(const ServiceOptions& options);

}  // namespace lightbox::agent::app
