#include "hub/fleet/latency.hpp"

#include <cmath>
#include <cstdio>

namespace lightbox::hub::fleet {

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string with_labels(std::string_view labels, std::string_view extra) {
  std::string s = "{";
  s += labels;
  if (!labels.empty() && !extra.empty()) s += ",";
  s += extra;
  s += "}";
  return s == "{}" ? std::string() : s;
}

}  // namespace

void Histogram::observe(double seconds) {
  if (!(seconds > 0)) seconds = 0;  // also catches NaN
  std::size_t i = 0;
  while (i < kLatencyBuckets.size() && seconds > kLatencyBuckets[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<std::int64_t>(std::llround(seconds * 1e6)), std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void Histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  // Read the buckets first: the count printed is their total, so the lines stay consistent
  // even while other threads observe.
  std::int64_t cumulative = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    std::string le = i < kLatencyBuckets.size() ? num(kLatencyBuckets[i]) : "+Inf";
    out += std::string(name) + "_bucket" + with_labels(labels, "le=\"" + le + "\"") + " " +
           std::to_string(cumulative) + "\n";
  }
  char sum[48];
  std::snprintf(sum, sizeof sum, "%.6f", static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6);
  out += std::string(name) + "_sum" + with_labels(labels, "") + " " + sum + "\n";
  out += std::string(name) + "_count" + with_labels(labels, "") + " " + std::to_string(cumulative) + "\n";
}

std::string_view route_class_name(RouteClass c) {
  switch (c) {
    case RouteClass::health:
      return "health";
    case RouteClass::metrics:
      return "metrics";
    case RouteClass::ingest:
      return "ingest";
    case RouteClass::records:
      return "records";
    case RouteClass::read:
      return "read";
    case RouteClass::heartbeat:
      return "heartbeat";
    case RouteClass::fleet:
      return "fleet";
    case RouteClass::dashboard:
      return "dashboard";
    case RouteClass::alerts:
      return "alerts";
    case RouteClass::enroll:
      return "enroll";
    case RouteClass::other:
      return "other";
  }
  return "other";
}

void RequestLatency::render(std::string& out) const {
  out += "# HELP lightbox_hub_request_seconds Time from a request's head to its answer, by route class.\n";
  out += "# TYPE lightbox_hub_request_seconds histogram\n";
  for (std::size_t i = 0; i < by_class_.size(); ++i) {
    auto name = route_class_name(static_cast<RouteClass>(i));
    by_class_[i].render(out, "lightbox_hub_request_seconds", "route=\"" + std::string(name) + "\"");
  }
  out +=
      "# HELP lightbox_hub_ingest_seconds Object PUT: last body byte to durable receipt (hash, store, "
      "index).\n";
  out += "# TYPE lightbox_hub_ingest_seconds histogram\n";
  ingest_.render(out, "lightbox_hub_ingest_seconds", "");
  out += "# HELP lightbox_hub_heartbeats_received_total Agent heartbeats accepted.\n";
  out += "# TYPE lightbox_hub_heartbeats_received_total counter\n";
  out += "lightbox_hub_heartbeats_received_total " + std::to_string(heartbeats()) + "\n";
}

}  // namespace lightbox::hub::fleet
