// install-service / uninstall-service on Linux: a systemd unit made from the packaged one
// (installer/systemd/lightbox-agent.service, embedded at build time) with ExecStart pointing at
// this very binary and the given config.
#include <pwd.h>
#include <grp.h>
#include <sys/wait.h>
#include <cerrno>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/app/commands.hpp"
#include "agent/app/service_unit.hpp"
#include "common/fsio/atomic_file.hpp"

namespace lightbox::agent::app {
namespace {

namespace fs = std::filesystem;
constexpr const char* kUnitName = "lightbox-agent.service";

// One ExecStart argument: quoted when it holds spaces or quotes; '%' doubled (systemd specifiers).
std::string unit_arg(const std::string& a) {
  std::string esc;
  for (char c : a) {
    if (c == '%') esc += "%%";
    else if (c == '"' || c == '\\') esc += std::string("\\") + c;
    else esc += c;
  }
  bool plain = !a.empty() && a.find_first_of(" \t\"'\\;$") == std::string::npos;
  return plain ? esc : "\"" + esc + "\"";
}

// The packaged unit with our ExecStart, User and Group, and a header saying where it came from.
std::string make_unit(const std::string& exe, const std::string& config, const std::string& user,
                      const std::string& group) {
  std::istringstream in(kAgentUnitTemplate);
  std::ostringstream out;
  out << "# Written by `" << exe << " install-service`; remove it with `lightbox-agent uninstall-service`.\n"
      << "# Made from the packaged unit (installer/systemd/lightbox-agent.service); change it with a\n"
      << "# drop-in (`systemctl edit lightbox-agent`) or by running install-service again.\n";
  bool header = true;
  for (std::string line; std::getline(in, line);) {
    if (header && line.rfind("#", 0) == 0) continue;  // the package's own header comment
    header = false;
    if (line.rfind("ExecStart=", 0) == 0)
      line = "ExecStart=" + unit_arg(exe) + " run --config " + unit_arg(config);
    else if (line.rfind("User=", 0) == 0)
      line = "User=" + user;
    else if (line.rfind("Group=", 0) == 0)
      line = "Group=" + group;
    out << line << "\n";
  }
  return out.str();
}

bool systemd_running() { return fs::is_directory("/run/systemd/system"); }

// Runs systemctl with `args`; prints the command and returns its exit status.
int systemctl(std::vector<std::string> args) {
  args.insert(args.begin(), "systemctl");
  std::string shown;
  for (const auto& a : args) shown += (shown.empty() ? "" : " ") + a;
  std::cout << "running: " << shown << std::endl;
  pid_t pid = ::fork();
  if (pid < 0) return 127;
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    _exit(127);
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

}  // namespace

int install_service_command(const ServiceOptions& o) {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    std::cerr << "lightbox-agent: cannot find this program's own path: " << ec.message() << "\n";
    return 1;
  }
  const fs::path config = fs::absolute(o.config_path, ec).lexically_normal();
  if (!fs::is_regular_file(config, ec))
    std::cerr << "warning: config " << config.string() << " does not exist yet; write it before starting the service\n";
  std::string group_name = o.user;
  if (const passwd* pw = ::getpwnam(o.user.c_str())) {
    if (const struct group* gr = ::getgrgid(pw->pw_gid)) group_name = gr->gr_name;
  } else {
    std::cerr << "warning: user " << o.user << " does not exist yet; create it with\n"
              << "  useradd --system --home-dir /var/lib/lightbox --shell /usr/sbin/nologin " << o.user << "\n";
  }
  const bool default_dir = o.unit_dir.empty();
  const fs::path dir = default_dir ? fs::path("/etc/systemd/system") : fs::path(o.unit_dir);
  const fs::path unit = dir / kUnitName;
  if (auto st = fsio::write_file_atomic(unit.string(), make_unit(exe.string(), config.string(), o.user, group_name));
      !st.ok()) {
    std::cerr << "lightbox-agent: cannot write " << unit.string() << ": " << st.error().message << "\n";
    return 1;
  }
  fs::permissions(unit, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                            fs::perms::others_read, ec);
  std::cout << "wrote " << unit.string() << " (ExecStart=" << exe.string() << " run --config " << config.string()
            << ", User=" << o.user << ")\n";
  if (default_dir && systemd_running()) {
    if (systemctl({"daemon-reload"}) != 0 || systemctl({"enable", "lightbox-agent"}) != 0) return 1;
    std::cout << "enabled; start it with: systemctl start lightbox-agent\n";
  } else {
    std::cout << "systemd is not managing " << dir.string() << " here; to finish, run:\n"
              << "  systemctl daemon-reload && systemctl enable --now lightbox-agent\n";
  }
  std::cout << "the unit may write only /var/lib/lightbox/agent and /var/log/lightbox: for a data_dir or log\n"
               "file elsewhere, add ReadWritePaths= with `systemctl edit lightbox-agent`\n";
  return 0;
}

int uninstall_service_command(const ServiceOptions& o) {
  const bool default_dir = o.unit_dir.empty();
  const fs::path dir = default_dir ? fs::path("/etc/systemd/system") : fs::path(o.unit_dir);
  const fs::path unit = dir / kUnitName;
  std::error_code ec;
  if (!fs::exists(unit, ec)) {
    std::cout << "not installed: " << unit.string() << " does not exist\n";
    return 0;
  }
  const bool live = default_dir && systemd_running();
  if (live && systemctl({"disable", "--now", "lightbox-agent"}) != 0)
    std::cerr << "warning: systemctl disable failed; removing the unit anyway\n";
  if (!fs::remove(unit, ec) || ec) {
    std::cerr << "lightbox-agent: cannot remove " << unit.string() << ": " << ec.message() << "\n";
    return 1;
  }
  std::cout << "removed " << unit.string() << "\n";
  if (live) {
    systemctl({"daemon-reload"});
  } else {
    std::cout << "systemd is not managing " << dir.string() << " here; if the service was enabled, run:\n"
              << "  systemctl disable --now lightbox-agent; systemctl daemon-reload\n";
  }
  std::cout << "the queue, data and config are kept\n";
  return 0;
}

}  // namespace lightbox::agent::app
