#pragma once
// How the outside world steers a running `run`: stop (SIGTERM/SIGINT, or the Windows service
// control STOP/SHUTDOWN) and reload the config (SIGHUP, or service control PARAMCHANGE). The
// signal thread / service control handler only sets flags here; the run loop does the work.
// Portable C++ only: the Windows service host includes it too.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

#include "agent/upload/cancel.hpp"

namespace lightbox::agent::app {

/// Stop and reload requests for one run. Thread-safe.
class RunControl {
 public:
  /// What woke a wait.
  enum class Wake { timeout, stop, reload };

  /// Asks the run to stop; in-flight transfers of the current pipeline get `grace` (the run's
  /// `upload.stop_grace_seconds` when `grace` is negative).
  void request_stop(std::chrono::milliseconds grace = std::chrono::milliseconds(-1)) {
    {
      std::lock_guard lock(mu_);  // held while cancelling: the pipeline cannot go away meanwhile
      if (stop_) return;
      stop_ = true;
      if (grace.count() >= 0) grace_ = grace;
      if (current_) current_->request(grace_);
    }
    cv_.notify_all();
  }
  /// Asks the run to re-read its config file (ignored once a stop was requested).
  void request_reload() {
    {
      std::lock_guard lock(mu_);
      reload_ = true;
    }
    cv_.notify_all();
  }
  bool stop_requested() const {
    std::lock_guard lock(mu_);
    return stop_;
  }
  /// Waits up to `d` for a stop or reload request. A pending reload is reported once (and cleared).
  Wake wait_for(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, d, [&] { return stop_ || reload_; });
    if (stop_) return Wake::stop;
    if (reload_) {
      reload_ = false;
      return Wake::reload;
    }
    return Wake::timeout;
  }
  /// The current pipeline's cancel (null between pipelines) and its stop grace: a stop request
  /// is forwarded to it at once; one that came before attaching cancels it right away.
  void attach(upload::Cancel* cancel, std::chrono::milliseconds grace) {
    std::lock_guard lock(mu_);
    current_ = cancel;
    if (!stop_) grace_ = grace;  // an explicit stop grace wins
    if (cancel && stop_) cancel->request(grace_);
  }
  /// The grace a stop request gives in-flight transfers (the service host's stop deadline adds to it).
  std::chrono::milliseconds stop_grace() const {
    std::lock_guard lock(mu_);
    return grace_;
  }
  /// Called by the run once it is up (the Windows host reports SERVICE_RUNNING then).
  std::function<void()> on_started;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool reload_ = false;
  upload::Cancel* current_ = nullptr;
  std::chrono::milliseconds grace_{10'000};
};

/// Windows: runs `run --config` as the SCM's service (service host in service_windows.cpp) and returns
/// its exit code, or kNotAService when the process was not started by the SCM (console: run as usual).
int run_as_windows_service(const std::string& config_path);
inline constexpr int kNotAService = -1;

/// `run` with an outside RunControl instead of the POSIX signal thread (the Windows service host).
/// Defined in run.cpp. Returns the exit code.
int run_with_control(const std::string& config_path, bool once, RunControl& control);

}  // namespace lightbox::agent::app
