// Link probe for tests/package/windows_cross.sh: the Windows service host (service_windows.cpp)
// and console stop handler (stop_signals_windows.cpp) linked into an .exe with a stand-in for
// `run` that only follows its RunControl (started, reloads, stop). Built with mingw-w64; it is
// what the host would drive, not the real agent (run.cpp is POSIX-only today, see docs/windows.md).
#include <cstdio>
#include <string>

#include "agent/app/commands.hpp"
#include "agent/app/run_control.hpp"
#include "agent/app/stop_signals.hpp"

namespace lightbox::agent::app {

int run_with_control(const std::string& config_path, bool, RunControl& control) {
  std::printf("probe: running with %s\n", config_path.c_str());
  if (control.on_started) control.on_started();
  int reloads = 0;
  for (;;) {
    auto w = control.wait_for(std::chrono::seconds(60));
    if (w == RunControl::Wake::stop) break;
    if (w == RunControl::Wake::reload) std::printf("probe: reload %d\n", ++reloads);
  }
  std::printf("probe: stopped after %d reloads\n", reloads);
  return 0;
}

}  // namespace lightbox::agent::app

int main(int argc, char** argv) {
  using namespace lightbox::agent::app;
  const std::string config = argc > 1 ? argv[1] : "agent.jsonc";
  if (argc > 2 && std::string(argv[2]) == "install") return install_service_command({config, "lightbox", ""});
  if (argc > 2 && std::string(argv[2]) == "uninstall") return uninstall_service_command({config, "lightbox", ""});
  if (int rc = run_as_windows_service(config); rc != kNotAService) return rc;
  RunControl control;  // console: Ctrl-C stops
  block_stop_signals();
  StopSignals signals(control);
  return run_with_control(config, false, control);
}
