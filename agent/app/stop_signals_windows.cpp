// Windows console (`run` started from a prompt, not by the SCM): Ctrl-C, Ctrl-Break, closing the
// window and log-off/shutdown become a stop request. There is no SIGHUP in a console; a service
// reloads on SERVICE_CONTROL_PARAMCHANGE (service_windows.cpp), a console run is restarted.
#define WIN32_LEAN_AND_MEAN
#define NOMINMAX
#include <windows.h>

#include <atomic>

#include "agent/app/stop_signals.hpp"

namespace lightbox::agent::app {
namespace {

// The console control handler gets no context argument: the one StopSignals of the process
// publishes its RunControl here for its own lifetime.
std::atomic<RunControl*> g_console_control{nullptr};

BOOL WINAPI on_console_event(DWORD type) {
  switch (type) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT:
    case CTRL_LOGOFF_EVENT:
    case CTRL_SHUTDOWN_EVENT:
      if (RunControl* c = g_console_control.load()) {
        c->request_stop();
        return TRUE;
      }
      return FALSE;
    default:
      return FALSE;
  }
}

}  // namespace

void block_stop_signals() {}  // nothing to block: console events arrive on their own thread

StopSignals::StopSignals(RunControl& control) {
  g_console_control.store(&control);
  SetConsoleCtrlHandler(&on_console_event, TRUE);
}

StopSignals::~StopSignals() {
  SetConsoleCtrlHandler(&on_console_event, FALSE);
  g_console_control.store(nullptr);
}

}  // namespace lightbox::agent::app
