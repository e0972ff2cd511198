#include "agent/report/status.hpp"

#include <ctime>
#include <filesystem>
#include <sstream>

#include "common/clock/clock.hpp"

namespace lightbox::agent::report {

Result<Snapshot> read_snapshot(sqlite::Db& db, std::int64_t now_ms) {
  Snapshot s;
  s.now_ms = now_ms;
  // A queue.db that was never written by `run` has no tables yet: that is an empty queue.
  auto probe = db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='items'");
  if (!probe) return std::move(probe).error();
  auto has = probe->step();
  if (!has) return std::move(has).error();
  if (*has) {
    auto c = queue::SqliteQueue::counts(db);
    if (!c) return std::move(c).error();
    s.counts = *c;
    auto e = queue::SqliteQueue::recent_errors(db, 10);
    if (!e) return std::move(e).error();
    s.recent_errors = std::move(*e);
    auto q = queue::SqliteQueue::quarantined(db, 100);
    if (!q) return std::move(q).error();
    s.quarantined = std::move(*q);
  }
  auto src = sources::SeenStore::read_states(db);
  if (!src) return std::move(src).error();
  s.sources = std::move(*src);
  return s;
}

Result<Snapshot> read_snapshot(const std::string& db_path, std::int64_t now_ms) {
  std::error_code ec;
  if (!std::filesystem::exists(db_path, ec)) {
    Snapshot s;
    s.now_ms = now_ms;
    return s;
  }
  auto db = sqlite::Db::open(db_path, {.read_only = true});
  if (!db) return std::move(db).error();
  return read_snapshot(*db, now_ms);
}

nlohmann::json to_json(const Snapshot& s) {
  using queue::State;
  nlohmann::json q = nlohmann::json::object();
  for (int i = 0; i < queue::kStateCount; ++i) q[std::string(queue::to_string(static_cast<State>(i)))] = s.counts.by_state[i];
  nlohmann::json j;
  j["queue"] = q;
  nlohmann::json rq = nlohmann::json::object();
  for (int i = 0; i < queue::kStateCount; ++i)
    rq[std::string(queue::to_string(static_cast<State>(i)))] = s.counts.records_by_state[i];
  j["records"] = rq;  // record batches (view sources, collection task reports), by state
  j["backlog_bytes"] = s.counts.backlog_bytes;
  if (s.counts.oldest_pending_at)
    j["oldest_pending_age_seconds"] = std::max<std::int64_t>(0, (s.now_ms - *s.counts.oldest_pending_at) / 1000);
  else
    j["oldest_pending_age_seconds"] = nullptr;
  j["recent_errors"] = nlohmann::json::array();
  for (const auto& it : s.recent_errors)
    j["recent_errors"].push_back({{"item", it.id}, {"source", it.source}, {"path", it.rel_path},
                                  {"error", it.last_error_code}, {"message", it.last_error},
                                  {"at", clock::iso_utc(it.updated_at)}});
  j["quarantined"] = nlohmann::json::array();
  for (const auto& it : s.quarantined)
    j["quarantined"].push_back({{"item", it.id}, {"source", it.source}, {"path", it.rel_path},
                                {"reason_code", it.last_error_code}, {"reason", it.last_error},
                                {"at", clock::iso_utc(it.updated_at)}});
  j["sources"] = nlohmann::json::array();
  for (const auto& src : s.sources) {
    nlohmann::json o{{"name", src.name}, {"kind", src.kind}};
    o["last_scan_at"] = src.last_scan_at_ms ? nlohmann::json(clock::iso_utc(src.last_scan_at_ms)) : nlohmann::json(nullptr);
    o["last_error"] = src.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(src.last_error);
    o["poll_seconds"] = src.poll_seconds;
    o["watermark"] = src.watermark.empty() ? nlohmann::json(nullptr) : nlohmann::json(src.watermark);
    j["sources"].push_back(o);
  }
  j["uploaded_bytes"] = s.counts.uploaded_bytes;
  return j;
}

std::string to_text(const Snapshot& s) {
  using queue::State;
  std::ostringstream o;
  o << "queue:";
  for (int i = 0; i < queue::kStateCount; ++i) o << "  " << queue::to_string(static_cast<State>(i)) << " " << s.counts.by_state[i];
  o << "\nrecord batches:";
  for (int i = 0; i < queue::kStateCount; ++i)
    o << "  " << queue::to_string(static_cast<State>(i)) << " " << s.counts.records_by_state[i];
  o << "\nbacklog: " << s.counts.backlog_bytes << " bytes";
  if (s.counts.oldest_pending_at)
    o << ", oldest pending item " << std::max<std::int64_t>(0, (s.now_ms - *s.counts.oldest_pending_at) / 1000) << " s old";
  o << "\nuploaded: " << s.counts.uploaded_bytes << " bytes\n";
  if (!s.sources.empty()) {
    o << "sources:\n";
    for (const auto& src : s.sources) {
      o << "  " << src.name << " (" << src.kind << ", every " << src.poll_seconds << " s) last scan "
        << (src.last_scan_at_ms ? clock::iso_utc(src.last_scan_at_ms) : std::string("never"));
      if (!src.watermark.empty()) o << ", watermark " << src.watermark;
      if (!src.last_error.empty()) o << ", error: " << src.last_error;
      o << "\n";
    }
  }
  if (!s.recent_errors.empty()) {
    o << "recent errors:\n";
    for (const auto& it : s.recent_errors)
      o << "  #" << it.id << " " << it.source << ":" << it.rel_path << " [" << queue::to_string(it.state) << "] "
        << it.last_error_code << ": " << it.last_error << " (" << clock::iso_utc(it.updated_at) << ")\n";
  }
  if (!s.quarantined.empty()) {
    o << "quarantined:\n";
    for (const auto& it : s.quarantined)
      o << "  #" << it.id << " " << it.source << ":" << it.rel_path << " " << it.last_error_code << ": "
        << it.last_error << "\n";
  }
  return o.str();
}

}  // namespace lightbox::agent::report
