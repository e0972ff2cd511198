#pragma once
// A stop request shared by every thread of a run: set once (SIGTERM/SIGINT or end of --once),
// observed through condition variables, never by polling.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

namespace lightbox::agent::upload {

/// Cancellation with a drain deadline. Thread-safe.
class Cancel {
 public:
  using Clock = std::chrono::steady_clock;

  /// Asks everyone to stop; in-flight transfers may go on for `grace`.
  void request(std::chrono::milliseconds grace = std::chrono::seconds(10)) {
    std::vector<std::function<void()>> subs;
    {
      std::lock_guard lock(mu_);
      if (requested_) return;
      requested_ = true;
      deadline_ = Clock::now() + grace;
      subs = subscribers_;
    }
    cv_.notify_all();
    for (auto& f : subs) f();
  }
  bool requested() const {
    std::lock_guard lock(mu_);
    return requested_;
  }
  /// True once the drain deadline has passed: in-flight transfers abort.
  bool expired() const {
    std::lock_guard lock(mu_);
    return requested_ && Clock::now() >= deadline_;
  }
  /// Waits up to `d`; returns true when a stop was requested.
  bool wait_for(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, d, [&] { return requested_; });
  }
  /// Calls `f` (from the requesting thread) when a stop is requested; used to wake other waits.
  void subscribe(std::function<void()> f) {
    std::lock_guard lock(mu_);
    subscribers_.push_back(std::move(f));
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false;
  Clock::time_point deadline_{};
  std::vector<std::function<void()>> subscribers_;
};

}  // namespace lightbox::agent::upload
