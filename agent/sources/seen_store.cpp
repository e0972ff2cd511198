#include "agent/sources/seen_store.hpp"

namespace lightbox::agent::sources {

Result<SeenStore> SeenStore::open(const std::string& db_path) {
  auto db = sqlite::Db::open(db_path);
  if (!db) return std::move(db).error();
  auto s = db->exec(
      "CREATE TABLE IF NOT EXISTS seen("
      " source TEXT NOT NULL, rel_path TEXT NOT NULL, size INTEGER NOT NULL,"
      " mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY(source, rel_path));"
      "CREATE INDEX IF NOT EXISTS seen_sha256 ON seen(sha256);"
      "CREATE TABLE IF NOT EXISTS source_state("
      " name TEXT PRIMARY KEY, kind TEXT NOT NULL, last_scan_at INTEGER, last_error TEXT,"
      " poll_seconds INTEGER NOT NULL DEFAULT 0, watermark TEXT);");
  if (!s) return std::move(s).error();
  return SeenStore(std::move(*db));
}

Result<std::map<std::string, SeenEntry>> SeenStore::load(const std::string& source) {
  auto st = db_.prepare("SELECT rel_path, size, mtime_ns, sha256 FROM seen WHERE source = ?");
  if (!st) return std::move(st).error();
  st->bind(1, source);
  std::map<std::string, SeenEntry> out;
  for (;;) {
    auto r = st->step();
    if (!r) return std::move(r).error();
    if (!*r) break;
    out[st->text(0)] = SeenEntry{static_cast<std::uint64_t>(st->int64(1)), st->int64(2), st->text(3)};
  }
  return out;
}

Result<std::optional<SeenEntry>> SeenStore::find(const std::string& source, const std::string& rel_path) {
  auto st = db_.prepare("SELECT size, mtime_ns, sha256 FROM seen WHERE source = ? AND rel_path = ?");
  if (!st) return std::move(st).error();
  st->bind(1, source).bind(2, rel_path);
  auto r = st->step();
  if (!r) return std::move(r).error();
  if (!*r) return std::optional<SeenEntry>();
  return std::optional<SeenEntry>(SeenEntry{static_cast<std::uint64_t>(st->int64(0)), st->int64(1), st->text(2)});
}

Status SeenStore::put(const std::vector<Collected>& batch) {
  if (batch.empty()) return {};
  sqlite::Txn txn(db_);
  if (!txn.begun()) return txn.begun();
  auto st = db_.prepare(
      "INSERT INTO seen(source, rel_path, size, mtime_ns, sha256) VALUES(?,?,?,?,?) "
      "ON CONFLICT(source, rel_path) DO UPDATE SET size=excluded.size, mtime_ns=excluded.mtime_ns, "
      "sha256=excluded.sha256");
  if (!st) return std::move(st).error();
  for (const auto& c : batch) {
    st->bind(1, c.candidate.source).bind(2, c.candidate.rel_path).bind(3, c.candidate.size);
    st->bind(4, c.candidate.mtime_ns).bind(5, c.sha256);
    if (auto s = st->run(); !s) return s;
  }
  return txn.commit();
}

Status SeenStore::record_scan(const SourceState& s) {
  auto st = db_.prepare(
      "INSERT INTO source_state(name, kind, last_scan_at, last_error, poll_seconds) VALUES(?,?,?,?,?) "
      "ON CONFLICT(name) DO UPDATE SET kind=excluded.kind, last_scan_at=excluded.last_scan_at, "
      "last_error=excluded.last_error, poll_seconds=excluded.poll_seconds");
  if (!st) return std::move(st).error();
  st->bind(1, s.name).bind(2, s.kind).bind(3, s.last_scan_at_ms);
  if (s.last_error.empty()) st->bind_null(4); else st->bind(4, s.last_error);
  st->bind(5, s.poll_seconds);
  return st->run();
}

Status SeenStore::save_watermark(const std::string& source, const std::string& kind, const std::string& watermark) {
  auto st = db_.prepare(
      "INSERT INTO source_state(name, kind, watermark) VALUES(?,?,?) "
      "ON CONFLICT(name) DO UPDATE SET watermark=excluded.watermark");
  if (!st) return std::move(st).error();
  st->bind(1, source).bind(2, kind).bind(3, watermark);
  return st->run();
}

Result<std::string> SeenStore::load_watermark(const std::string& source) {
  auto st = db_.prepare("SELECT watermark FROM source_state WHERE name = ?");
  if (!st) return std::move(st).error();
  st->bind(1, source);
  auto r = st->step();
  if (!r) return std::move(r).error();
  if (!*r || st->is_null(0)) return std::string();
  return st->text(0);
}

Result<std::vector<SourceState>> SeenStore::read_states(sqlite::Db& db) {
  std::vector<SourceState> out;
  auto st = db.prepare(
      "SELECT name, kind, last_scan_at, last_error, poll_seconds, watermark FROM source_state ORDER BY name");
  if (!st) return out;  // table not created yet: no scans so far
  for (;;) {
    auto r = st->step();
    if (!r) return std::move(r).error();
    if (!*r) break;
    out.push_back(SourceState{st->text(0), st->text(1), st->is_null(2) ? 0 : st->int64(2), st->text(3),
                              st->int64(4), st->text(5)});
  }
  return out;
}

}  // namespace lightbox::agent::sources
