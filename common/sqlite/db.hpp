#pragma once
// sqlite3 behind two small types. Every database Lightbox opens is durable by default:
// WAL journal with synchronous=FULL, so a committed transaction survives kill -9 and power loss.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace lightbox::sqlite {

class Db;

/// A prepared statement. Bind indexes start at 1, column indexes at 0.
class Stmt {
 public:
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
  Stmt(const Stmt&) = delete;
  ~Stmt();

  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind_null(int i);
  /// Binds NULL for an empty optional.
  Stmt& bind(int i, const std::optional<std::string>& v) { return v ? bind(i, *v) : bind_null(i); }

  /// Advances: true = a row is available, false = done.
  Result<bool> step();
  /// Runs to completion (INSERT/UPDATE/DELETE) and resets for reuse.
  Status run();
  void reset();

  bool is_null(int col) const;
  std::int64_t int64(int col) const;
  double real(int col) const;
  std::string text(int col) const;
  std::optional<std::string> opt_text(int col) const;

 private:
  friend class Db;
  Stmt(Db* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  Db* db_;
  sqlite3_stmt* s_;
};

struct OpenOptions {
  bool read_only = false;
  int busy_timeout_ms = 10000;
};

/// One connection. Not thread-safe: give each thread its own or guard it with a mutex.
class Db {
 public:
  static Result<Db> open(const std::string& path, OpenOptions opts = {});
  Db(Db&& o) noexcept : db_(o.db_), path_(std::move(o.path_)) { o.db_ = nullptr; }
  Db& operator=(Db&& o) noexcept;
  Db(const Db&) = delete;
  ~Db();

  Status exec(std::string_view sql);
  Result<Stmt> prepare(std::string_view sql);
  std::int64_t last_insert_rowid() const;
  int changes() const;
  /// PRAGMA quick_check; an error value describes the damage.
  Status quick_check();
  /// A consistent copy of the whole database at `dest_path` while others keep writing (SQLite's
  /// online backup), written to a temporary, fsynced and renamed into place.
  Status backup_to(const std::string& dest_path);
  const std::string& path() const { return path_; }
  /// The current error of the connection, mapped to the project's codes.
  Error last_error(std::string_view what) const;

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

/// BEGIN IMMEDIATE on construction; rolls back unless commit() succeeded.
class Txn {
 public:
  explicit Txn(Db& db);
  ~Txn();
  Txn(const Txn&) = delete;
  /// Status of BEGIN; check it before doing work.
  const Status& begun() const { return begun_; }
  Status commit();

 private:
  Db& db_;
  Status begun_;
  bool done_ = false;
};

}  // namespace lightbox::sqlite
