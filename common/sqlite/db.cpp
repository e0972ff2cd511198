#include "common/sqlite/db.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <sqlite3.h>

namespace lightbox::sqlite {
namespace {

Errc errc_from_sqlite(int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL: return Errc::storage_full;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Errc::busy;
    case SQLITE_CONSTRAINT: return Errc::conflict;
    default: return Errc::db_error;
  }
}

}  // namespace

Error Db::last_error(std::string_view what) const {
  int rc = db_ ? sqlite3_extended_errcode(db_) : SQLITE_ERROR;
  std::string msg = std::string(what) + ": " + (db_ ? sqlite3_errmsg(db_) : "no connection");
  return fail(errc_from_sqlite(rc), msg);
}

Result<Db> Db::open(const std::string& path, OpenOptions opts) {
  sqlite3* raw = nullptr;
  int flags = (opts.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
              SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw, path);
  if (rc != SQLITE_OK) return db.last_error("cannot open database " + path);
  sqlite3_busy_timeout(raw, opts.busy_timeout_ms);
  if (!opts.read_only) {
    // WAL + FULL: every commit is fsynced; see DESIGN.md "Nothing is lost".
    if (auto s = db.exec("PRAGMA journal_mode=WAL"); !s) return std::move(s).error();
    if (auto s = db.exec("PRAGMA synchronous=FULL"); !s) return std::move(s).error();
  }
  if (auto s = db.exec("PRAGMA foreign_keys=ON"); !s) return std::move(s).error();
  return db;
}

Db& Db::operator=(Db&& o) noexcept {
  if (this != &o) {
    if (db_) sqlite3_close_v2(db_);
    db_ = o.db_;
    path_ = std::move(o.path_);
    o.db_ = nullptr;
  }
  return *this;
}

Db::~Db() {
  if (db_) sqlite3_close_v2(db_);
}

Status Db::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return fail(errc_from_sqlite(rc), "sqlite: " + msg);
  }
  return {};
}

Result<Stmt> Db::prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) return last_error("cannot prepare '" + std::string(sql.substr(0, 60)) + "'");
  return Stmt(this, s);
}

std::int64_t Db::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int Db::changes() const { return sqlite3_changes(db_); }

Status Db::quick_check() {
  auto st = prepare("PRAGMA quick_check");
  if (!st) return std::move(st).error();
  std::string problems;
  for (;;) {
    auto r = st->step();
    if (!r) return std::move(r).error();
    if (!*r) break;
    std::string line = st->text(0);
    if (line != "ok") problems += line + "; ";
  }
  if (!problems.empty()) return fail(Errc::db_error, "database " + path_ + " is damaged: " + problems);
  return {};
}

Status Db::backup_to(const std::string& dest_path) {
  const std::string tmp = dest_path + ".partial";
  ::unlink(tmp.c_str());
  sqlite3* out = nullptr;
  int rc = sqlite3_open_v2(tmp.c_str(), &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  Db dest(out, tmp);  // closes `out` on every path
  if (rc != SQLITE_OK) return dest.last_error("cannot create " + tmp);
  sqlite3_backup* b = sqlite3_backup_init(out, "main", db_, "main");
  if (!b) return dest.last_error("cannot start the backup of " + path_);
  // All pages in one step: the source is read under one read transaction, so the copy is one
  // consistent snapshot even while the hub commits (WAL readers do not block writers).
  rc = sqlite3_backup_step(b, -1);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) return fail(Errc::db_error, "backup of " + path_ + " failed: " + sqlite3_errstr(rc));
  if (auto s = dest.exec("PRAGMA journal_mode=DELETE"); !s) return s;
  dest = Db(nullptr, "");
  int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    int e = errno;
    if (fd >= 0) ::close(fd);
    return fail(Errc::io_error, "cannot fsync " + tmp + ": " + std::strerror(e));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), dest_path.c_str()) != 0)
    return fail(Errc::io_error, "cannot rename " + tmp + ": " + std::strerror(errno));
  return {};
}

Stmt::~Stmt() {
  if (s_) sqlite3_finalize(s_);
}

Stmt& Stmt::bind(int i, std::int64_t v) { sqlite3_bind_int64(s_, i, v); return *this; }
Stmt& Stmt::bind(int i, double v) { sqlite3_bind_double(s_, i, v); return *this; }
Stmt& Stmt::bind(int i, std::string_view v) {
  sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::bind_null(int i) { sqlite3_bind_null(s_, i); return *this; }

Result<bool> Stmt::step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error e = db_->last_error("sqlite step");
  sqlite3_reset(s_);
  return e;
}

Status Stmt::run() {
  auto r = step();
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
  if (!r) return std::move(r).error();
  return {};
}

void Stmt::reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

bool Stmt::is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
std::int64_t Stmt::int64(int col) const { return sqlite3_column_int64(s_, col); }
double Stmt::real(int col) const { return sqlite3_column_double(s_, col); }
std::string Stmt::text(int col) const {
  const unsigned char* p = sqlite3_column_text(s_, col);
  int n = sqlite3_column_bytes(s_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}
std::optional<std::string> Stmt::opt_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return text(col);
}

Txn::Txn(Db& db) : db_(db), begun_(db.exec("BEGIN IMMEDIATE")) {
  if (!begun_) done_ = true;
}

Txn::~Txn() {
  if (!done_) (void)db_.exec("ROLLBACK");
}

Status Txn::commit() {
  auto s = db_.exec("COMMIT");
  if (s) done_ = true;
  return s;
}

}  // namespace lightbox::sqlite
