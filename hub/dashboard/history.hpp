#pragma once
// An agent's heartbeat history downsampled for the dashboard's charts: the requested window is cut
// into at most N equal buckets; each non-empty bucket becomes one point. Pure; no I/O.
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "hub/fleet/heartbeat.hpp"

namespace lightbox::hub::dashboard {

/// Most points one history answer carries.
inline constexpr std::size_t kMaxHistoryPoints = 300;

/// One bucket of beats. Flows (uploads, errors) are summed; levels (backlog, disk) keep the worst.
struct HistoryPoint {
  std::int64_t t_ms = 0;  // bucket start, unix ms
  std::int64_t beats = 0;
  std::int64_t backlog_bytes = 0;     // max
  std::int64_t oldest_pending_s = 0;  // max
  std::int64_t uploaded_items = 0;    // sum
  std::int64_t uploaded_bytes = 0;    // sum
  std::int64_t errors = 0;            // sum
  std::int64_t spool_free_bytes = 0;  // min
  std::int64_t spool_total_bytes = 0;
};

/// The downsampled window [since_ms, until_ms].
struct History {
  std::int64_t since_ms = 0;
  std::int64_t until_ms = 0;
  std::int64_t bucket_ms = 0;
  std::vector<HistoryPoint> points;  // oldest first, empty buckets omitted
};

/// Buckets `beats` (any order) into at most `max_points` buckets over [since_ms, until_ms] (a beat
/// at until_ms joins the last bucket); beats outside are ignored. Buckets are at least 1 s wide.
History downsample(const std::vector<fleet::Beat>& beats, std::int64_t since_ms, std::int64_t until_ms,
                   std::size_t max_points = kMaxHistoryPoints);

/// `{"since","until","bucket_seconds","points":[{"t","beats","backlog_bytes",...}]}`.
nlohmann::json to_json(const History& h);

/// Unix ms as ISO-8601 UTC with seconds ("2026-11-28T01:02:03Z").
std::string iso_utc(std::int64_t ms);

}  // namespace lightbox::hub::dashboard
