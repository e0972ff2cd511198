#pragma once
// SIGTERM/SIGINT become a stop request, SIGHUP a reload request, on a RunControl. Signals are
// blocked in every thread and received by one thread in sigwait(), so no work happens inside a
// signal handler.
#include <thread>

#include "agent/app/run_control.hpp"

namespace lightbox::agent::app {

/// Blocks SIGTERM/SIGINT/SIGHUP (and the private wake-up signal) for this thread and every thread
/// it starts afterwards. Call first thing in a command, before any thread exists.
void block_stop_signals();

/// Owns the thread that waits for the signals. Destroy it before `control` goes away.
class StopSignals {
 public:
  /// SIGTERM/SIGINT -> control.request_stop() (grace: the run's upload.stop_grace_seconds);
  /// SIGHUP -> control.request_reload().
  explicit StopSignals(RunControl& control);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  std::thread thread_;
};

}  // namespace lightbox::agent::app
