#pragma once
// SIGTERM/SIGINT become a Cancel request. Signals are blocked in every thread and received by
// one thread in sigwait(), so no work happens inside a signal handler.
#include <chrono>
#include <thread>

#include "agent/upload/cancel.hpp"

namespace lightbox::agent::app {

/// Blocks SIGTERM/SIGINT (and the private wake-up signal) for this thread and every thread it
/// starts afterwards. Call first thing in a command, before any thread exists.
void block_stop_signals();

/// Owns the thread that waits for the signals. Destroy it before whatever `cancel` wakes.
class StopSignals {
 public:
  /// In-flight transfers get `grace` to finish after a stop signal (`upload.stop_grace_seconds`).
  explicit StopSignals(upload::Cancel& cancel, std::chrono::milliseconds grace = std::chrono::seconds(10));
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  std::thread thread_;
};

}  // namespace lightbox::agent::app
