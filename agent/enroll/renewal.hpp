#pragma once
// Certificate renewal inside `run`: a thread that checks the identity at start and then every
// hour, and renews (new key, atomic swap) once less than a third of the lifetime is left. The
// uploader and the heartbeat read the files on their next TLS handshake.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "agent/enroll/enroller.hpp"
#include "common/log/logger.hpp"

namespace lightbox::agent::enroll {

/// What the renewal thread needs.
struct RenewalOptions {
  HubEndpoint hub;
  std::string agent;
  std::string identity_dir;
  std::chrono::seconds check_every{3600};
};

/// The renewal thread. Stops (promptly) on stop() or destruction.
class Renewal {
 public:
  /// What one check did.
  enum class Outcome { no_identity, not_due, renewed, failed };

  Renewal(RenewalOptions opts, log::Logger& log) : opts_(std::move(opts)), log_(log) {}
  ~Renewal() { stop(); }
  Renewal(const Renewal&) = delete;
  Renewal& operator=(const Renewal&) = delete;

  /// Starts the thread; the first check runs at once.
  void start();
  /// Stops the thread and waits for it (an in-flight renewal finishes first; it is short).
  void stop();
  /// One check at `now` (Unix seconds): renews when due. Logs what it did.
  Outcome check_once(std::int64_t now);

 private:
  RenewalOptions opts_;
  log::Logger& log_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace lightbox::agent::enroll
