#include "agent/queue/sqlite_queue.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace lightbox::agent::queue {
namespace {

constexpr std::string_view kNames[kStateCount] = {"collected", "verified", "uploading",
                                                   "done",      "failed",   "quarantined"};

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS items("
    " id INTEGER PRIMARY KEY,"
    " sha256 TEXT NOT NULL UNIQUE,"
    " kind TEXT NOT NULL,"
    " source TEXT NOT NULL,"
    " rel_path TEXT NOT NULL,"
    " size INTEGER NOT NULL,"
    " state TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_at INTEGER NOT NULL DEFAULT 0,"
    " last_error_code TEXT,"
    " last_error TEXT,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS items_due ON items(state, next_attempt_at);";

constexpr const char* kColumns =
    "id, sha256, kind, source, rel_path, size, state, attempts, next_attempt_at, "
    "last_error_code, last_error, created_at, updated_at";

Item read_item(const sqlite::Stmt& st) {
  Item it;
  it.id = st.int64(0);
  it.sha256 = st.text(1);
  it.kind = st.text(2);
  it.source = st.text(3);
  it.rel_path = st.text(4);
  it.size = static_cast<std::uint64_t>(st.int64(5));
  it.state = parse_state(st.text(6)).value_or(State::failed);
  it.attempts = st.int64(7);
  it.next_attempt_at = st.int64(8);
  it.last_error_code = st.text(9);
  it.last_error = st.text(10);
  it.created_at = st.int64(11);
  it.updated_at = st.int64(12);
  return it;
}

Result<std::vector<Item>> read_items(sqlite::Stmt& st) {
  std::vector<Item> out;
  for (;;) {
    auto r = st.step();
    if (!r) return std::move(r).error();
    if (!*r) break;
    out.push_back(read_item(st));
  }
  return out;
}

Result<std::vector<Item>> query_items(sqlite::Db& db, const std::string& where_order, std::int64_t limit) {
  auto st = db.prepare(std::string("SELECT ") + kColumns + " FROM items " + where_order + " LIMIT ?");
  if (!st) return std::move(st).error();
  st->bind(1, limit);
  return read_items(*st);
}

}  // namespace

std::string_view to_string(State s) { return kNames[static_cast<int>(s)]; }

std::optional<State> parse_state(std::string_view s) {
  for (int i = 0; i < kStateCount; ++i)
    if (kNames[i] == s) return static_cast<State>(i);
  return std::nullopt;
}

std::int64_t backoff_ms(std::int64_t attempts, std::int64_t initial_ms, std::int64_t max_ms, double u01) {
  // Cap the exponent first so the shift cannot overflow after many attempts.
  std::int64_t ceiling = max_ms;
  if (attempts < 40) ceiling = std::min<std::int64_t>(max_ms, initial_ms * (std::int64_t{1} << attempts));
  u01 = std::clamp(u01, 0.0, 1.0);
  return static_cast<std::int64_t>(std::llround(u01 * static_cast<double>(ceiling)));
}

std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::unique_ptr<SqliteQueue>> SqliteQueue::open(const std::string& db_path, std::int64_t* recovered,
                                                       bool recover) {
  auto db = sqlite::Db::open(db_path);
  if (!db) return std::move(db).error();
  if (auto s = db->exec(kSchema); !s) return std::move(s).error();
  if (recovered) *recovered = 0;
  if (!recover) return std::make_unique<SqliteQueue>(std::move(*db));
  // Crash recovery: an item in `uploading` belongs to no worker after a restart.
  if (auto s = db->exec("UPDATE items SET state='verified' WHERE state='uploading'"); !s) return std::move(s).error();
  if (recovered) *recovered = db->changes();
  return std::make_unique<SqliteQueue>(std::move(*db));
}

Result<std::vector<Inserted>> SqliteQueue::insert(const std::vector<NewItem>& items, std::int64_t now) {
  std::lock_guard lock(mu_);
  std::vector<Inserted> out;
  out.reserve(items.size());
  sqlite::Txn txn(db_);
  if (!txn.begun()) return txn.begun().error();
  auto ins = db_.prepare(
      "INSERT INTO items(sha256, kind, source, rel_path, size, state, attempts, next_attempt_at,"
      " last_error_code, last_error, created_at, updated_at) VALUES(?,?,?,?,?,?,0,?,?,?,?,?)"
      " ON CONFLICT(sha256) DO NOTHING");
  if (!ins) return std::move(ins).error();
  auto sel = db_.prepare("SELECT id, state, source FROM items WHERE sha256 = ?");
  if (!sel) return std::move(sel).error();
  // A spool orphan re-queued at start-up has no source; the first source that brings the same
  // bytes adopts it, so its after_upload applies on delivery.
  auto adopt = db_.prepare("UPDATE items SET source=?, rel_path=? WHERE id=? AND source=''");
  if (!adopt) return std::move(adopt).error();
  for (const auto& n : items) {
    ins->bind(1, n.sha256).bind(2, n.kind).bind(3, n.source).bind(4, n.rel_path).bind(5, n.size);
    ins->bind(6, to_string(n.state)).bind(7, now);
    if (n.error_code.empty()) ins->bind_null(8); else ins->bind(8, n.error_code);
    if (n.error.empty()) ins->bind_null(9); else ins->bind(9, n.error);
    ins->bind(10, now).bind(11, now);
    if (auto s = ins->run(); !s) return std::move(s).error();
    Inserted r;
    if (db_.changes() == 1) {
      r.id = db_.last_insert_rowid();
      r.added = true;
    } else {
      sel->bind(1, n.sha256);
      auto row = sel->step();
      if (!row) return std::move(row).error();
      if (*row) {
        r.id = sel->int64(0);
        r.existing_state = parse_state(sel->text(1)).value_or(State::failed);
        if (sel->text(2).empty() && !n.source.empty()) {
          adopt->bind(1, n.source).bind(2, n.rel_path).bind(3, r.id);
          if (auto s = adopt->run(); !s) return std::move(s).error();
        }
      }
      sel->reset();
    }
    out.push_back(r);
  }
  if (auto s = txn.commit(); !s) return std::move(s).error();
  return out;
}

Result<std::optional<Item>> SqliteQueue::claim(std::int64_t now) {
  std::lock_guard lock(mu_);
  // One statement: pick and flip under SQLite's write lock, so no two workers (or processes)
  // can take the same item.
  auto st = db_.prepare(std::string(
      "UPDATE items SET state='uploading', updated_at=?1 WHERE id = ("
      " SELECT id FROM items WHERE state='verified' AND next_attempt_at <= ?1"
      " ORDER BY next_attempt_at, id LIMIT 1) AND state='verified' RETURNING ") + kColumns);
  if (!st) return std::move(st).error();
  st->bind(1, now);
  auto r = st->step();
  if (!r) return std::move(r).error();
  if (!*r) return std::optional<Item>{};
  Item it = read_item(*st);
  // Drain the statement so the UPDATE completes before the connection is used again.
  while (true) {
    auto more = st->step();
    if (!more) return std::move(more).error();
    if (!*more) break;
  }
  return std::optional<Item>(std::move(it));
}

Status SqliteQueue::settle(std::int64_t id, State from, const Settlement& s, std::int64_t now) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare(
      "UPDATE items SET state=?1, next_attempt_at=?2, attempts=attempts+?3, last_error_code=?4,"
      " last_error=?5, updated_at=?6 WHERE id=?7 AND state=?8");
  if (!st) return std::move(st).error();
  st->bind(1, to_string(s.to)).bind(2, s.next_attempt_at).bind(3, s.count_attempt ? 1 : 0);
  if (s.error_code.empty()) st->bind_null(4); else st->bind(4, s.error_code);
  if (s.error.empty()) st->bind_null(5); else st->bind(5, s.error);
  st->bind(6, now).bind(7, id).bind(8, to_string(from));
  if (auto r = st->run(); !r) return r;
  if (db_.changes() != 1)
    return fail(Errc::conflict, "item " + std::to_string(id) + " is not " + std::string(to_string(from)));
  return {};
}

Result<std::optional<std::int64_t>> SqliteQueue::next_due() {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("SELECT MIN(next_attempt_at) FROM items WHERE state='verified'");
  if (!st) return std::move(st).error();
  auto r = st->step();
  if (!r) return std::move(r).error();
  if (!*r || st->is_null(0)) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>(st->int64(0));
}

Result<std::vector<Item>> SqliteQueue::list(State state, std::int64_t limit) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare(std::string("SELECT ") + kColumns + " FROM items WHERE state=? ORDER BY id LIMIT ?");
  if (!st) return std::move(st).error();
  st->bind(1, to_string(state)).bind(2, limit);
  return read_items(*st);
}

Result<std::int64_t> SqliteQueue::requeue(const std::vector<std::int64_t>& ids, std::int64_t now) {
  std::lock_guard lock(mu_);
  sqlite::Txn txn(db_);
  if (!txn.begun()) return txn.begun().error();
  auto st = db_.prepare(
      "UPDATE items SET state = CASE state WHEN 'failed' THEN 'verified' ELSE 'collected' END,"
      " attempts=0, next_attempt_at=?1, last_error_code=NULL, last_error=NULL, updated_at=?1"
      " WHERE id=?2 AND state IN ('failed','quarantined')");
  if (!st) return std::move(st).error();
  std::int64_t n = 0;
  for (auto id : ids) {
    st->bind(1, now).bind(2, id);
    if (auto s = st->run(); !s) return std::move(s).error();
    n += db_.changes();
  }
  if (auto s = txn.commit(); !s) return std::move(s).error();
  return n;
}

Result<std::optional<Item>> SqliteQueue::find(const std::string& sha256) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare(std::string("SELECT ") + kColumns + " FROM items WHERE sha256=?");
  if (!st) return std::move(st).error();
  st->bind(1, sha256);
  auto items = read_items(*st);
  if (!items) return std::move(items).error();
  if (items->empty()) return std::optional<Item>{};
  return std::optional<Item>(items->front());
}

Result<Counts> SqliteQueue::counts() {
  std::lock_guard lock(mu_);
  return counts(db_);
}

Result<Counts> SqliteQueue::counts(sqlite::Db& db) {
  Counts c;
  // Record batches (views, task reports) are counted apart, so file counts stay file counts.
  auto st = db.prepare(
      "SELECT state, COUNT(*), COALESCE(SUM(size),0), MIN(created_at), kind = 'records' FROM items"
      " GROUP BY state, kind = 'records'");
  if (!st) return std::move(st).error();
  for (;;) {
    auto r = st->step();
    if (!r) return std::move(r).error();
    if (!*r) break;
    auto s = parse_state(st->text(0));
    if (!s) continue;
    (st->int64(4) ? c.records_by_state : c.by_state)[static_cast<int>(*s)] = st->int64(1);
    if (*s == State::collected || *s == State::verified || *s == State::uploading) {
      c.backlog_bytes += st->int64(2);
      std::int64_t oldest = st->int64(3);
      if (!c.oldest_pending_at || oldest < *c.oldest_pending_at) c.oldest_pending_at = oldest;
    }
    if (*s == State::done) c.uploaded_bytes += st->int64(2);
  }
  return c;
}

Result<std::vector<Item>> SqliteQueue::recent_errors(sqlite::Db& db, std::int64_t limit) {
  return query_items(db,
                     "WHERE last_error_code IS NOT NULL AND state IN ('verified','uploading','failed')"
                     " ORDER BY updated_at DESC, id DESC",
                     limit);
}

Result<std::vector<Item>> SqliteQueue::quarantined(sqlite::Db& db, std::int64_t limit) {
  return query_items(db, "WHERE state='quarantined' ORDER BY updated_at DESC, id DESC", limit);
}

}  // namespace lightbox::agent::queue
