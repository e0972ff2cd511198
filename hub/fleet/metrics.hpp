#pragma once
// The hub's /metrics (Prometheus text format 0.0.4): aggregate counters only, no per-agent or
// per-institution labels, since the endpoint needs no credential.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "hub/fleet/latency.hpp"
#include "hub/fleet/repository.hpp"

namespace lightbox::hub::fleet {

/// Request counters, bumped by the API for every answer.
class Metrics {
 public:
  /// Counts one answered request by its status class (1xx..5xx).
  void count(int status) {
    int cls = status / 100;
    if (cls >= 1 && cls <= 5)
      by_class_[static_cast<std::size_t>(cls - 1)].fetch_add(1, std::memory_order_relaxed);
  }
  /// Requests answered with status class `cls` (1..5).
  std::int64_t requests(int cls) const { return by_class_[static_cast<std::size_t>(cls - 1)].load(); }
  /// Seconds since this object was built (the hub's start).
  double uptime_seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }
  /// Request/ingest latency histograms and the heartbeat counter (rendered by render_metrics).
  RequestLatency latency;

 private:
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::array<std::atomic<std::int64_t>, 5> by_class_{};
};

/// The /metrics body: uptime, requests by status class, objects/bytes stored, agents by health.
Result<std::string> render_metrics(const Metrics& m, FleetRepository& repo, std::int64_t now_ms);

}  // namespace lightbox::hub::fleet
