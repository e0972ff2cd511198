#pragma once
// Latency histograms for the hub's /metrics: request time by route class, object ingest time
// (body received -> durable receipt) and heartbeats received. Lock-free (atomics), aggregate only:
// a route class is a small fixed set, never a path, an agent or an institution.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace lightbox::hub::fleet {

/// Upper bounds (seconds) of the histogram buckets; +Inf is implicit.
inline constexpr std::array<double, 15> kLatencyBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                        0.5,   1.0,    2.5,   5.0,  10.0,  30.0, 60.0};

/// One Prometheus histogram with the fixed kLatencyBuckets.
class Histogram {
 public:
  /// Records one observation of `seconds` (negative values count as 0).
  void observe(double seconds);
  /// Observations so far.
  std::int64_t count() const { return count_.load(std::memory_order_relaxed); }
  /// Appends `name_bucket{labels,le=..}`, `name_sum{labels}` and `name_count{labels}` lines.
  /// `labels` is "" or e.g. `route="ingest"`.
  void render(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::array<std::atomic<std::int64_t>, kLatencyBuckets.size() + 1> buckets_{};  // last = +Inf only
  std::atomic<std::int64_t> count_{0};
  std::atomic<std::int64_t> sum_us_{0};
};

/// What kind of request, for the request-latency label.
enum class RouteClass {
  health,
  metrics,
  ingest,
  records,
  read,
  heartbeat,
  fleet,
  dashboard,
  alerts,
  enroll,
  other
};
/// The label value: "health", "ingest", ...
std::string_view route_class_name(RouteClass c);

/// The hub's latency metrics. Thread-safe.
class RequestLatency {
 public:
  /// A request of class `c` took `seconds` from its head to its answer.
  void observe_request(RouteClass c, double seconds) {
    by_class_[static_cast<std::size_t>(c)].observe(seconds);
  }
  /// An object PUT took `seconds` from its last body byte to its receipt (hash check, store, index).
  void observe_ingest(double seconds) { ingest_.observe(seconds); }
  /// One heartbeat was accepted.
  void count_heartbeat() { heartbeats_.fetch_add(1, std::memory_order_relaxed); }
  /// Heartbeats accepted so far.
  std::int64_t heartbeats() const { return heartbeats_.load(std::memory_order_relaxed); }
  /// Requests of class `c` observed so far.
  std::int64_t requests(RouteClass c) const { return by_class_[static_cast<std::size_t>(c)].count(); }
  /// Appends the HELP/TYPE lines and samples of lightbox_hub_request_seconds,
  /// lightbox_hub_ingest_seconds and lightbox_hub_heartbeats_received_total.
  void render(std::string& out) const;

 private:
  std::array<Histogram, static_cast<std::size_t>(RouteClass::other) + 1> by_class_{};
  Histogram ingest_;
  std::atomic<std::int64_t> heartbeats_{0};
};

}  // namespace lightbox::hub::fleet
