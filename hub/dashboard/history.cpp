#include "hub/dashboard/history.hpp"

#include <algorithm>
#include <ctime>
#include <map>

#include "common/clock/clock.hpp"

namespace lightbox::hub::dashboard {

std::string iso_utc(std::int64_t ms) { return clock::iso_utc(ms); }

History downsample(const std::vector<fleet::Beat>& beats, std::int64_t since_ms, std::int64_t until_ms,
                   std::size_t max_points) {
  History h;
  h.since_ms = since_ms;
  h.until_ms = std::max(until_ms, since_ms + 1);
  const std::int64_t span = h.until_ms - since_ms;
  const auto n = static_cast<std::int64_t>(std::max<std::size_t>(max_points, 1));
  h.bucket_ms = std::max<std::int64_t>(1000, (span + n - 1) / n);
  const std::int64_t last = (span - 1) / h.bucket_ms;  // a beat at until_ms joins the last bucket
  std::map<std::int64_t, HistoryPoint> buckets;
  for (const auto& b : beats) {
    if (b.received_ms < since_ms || b.received_ms > h.until_ms) continue;
    const std::int64_t idx = std::min(last, (b.received_ms - since_ms) / h.bucket_ms);
    auto [it, fresh] = buckets.try_emplace(idx);
    auto& p = it->second;
    const std::int64_t oldest =
        b.body.contains("oldest_pending_age_seconds") && b.body["oldest_pending_age_seconds"].is_number()
            ? b.body["oldest_pending_age_seconds"].get<std::int64_t>()
            : 0;
    if (fresh) {
      p.t_ms = since_ms + idx * h.bucket_ms;
      p.spool_free_bytes = b.spool_free;
      p.spool_total_bytes = b.spool_total;
    }
    ++p.beats;
    p.backlog_bytes = std::max(p.backlog_bytes, b.backlog_bytes);
    p.oldest_pending_s = std::max(p.oldest_pending_s, oldest);
    p.uploaded_items += b.uploaded_items;
    p.uploaded_bytes += b.uploaded_bytes;
    p.errors += b.errors;
    if (b.spool_free < p.spool_free_bytes) {
      p.spool_free_bytes = b.spool_free;
      p.spool_total_bytes = b.spool_total;
    }
  }
  h.points.reserve(buckets.size());
  for (auto& [idx, p] : buckets) h.points.push_back(p);
  return h;
}

nlohmann::json to_json(const History& h) {
  nlohmann::json pts = nlohmann::json::array();
  for (const auto& p : h.points)
    pts.push_back({{"t", iso_utc(p.t_ms)},
                   {"beats", p.beats},
                   {"backlog_bytes", p.backlog_bytes},
                   {"oldest_pending_seconds", p.oldest_pending_s},
                   {"uploaded_items", p.uploaded_items},
                   {"uploaded_bytes", p.uploaded_bytes},
                   {"errors", p.errors},
                   {"spool_free_bytes", p.spool_free_bytes},
                   {"spool_total_bytes", p.spool_total_bytes}});
  return {{"since", iso_utc(h.since_ms)},
          {"until", iso_utc(h.until_ms)},
          {"bucket_seconds", h.bucket_ms / 1000.0},
          {"points", std::move(pts)}};
}

}  // namespace lightbox::hub::dashboard
