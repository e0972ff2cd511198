#include "common/sqlite/db.hpp"

#include <filesystem>
#include <unistd.h>

#include <doctest/doctest.h>

using namespace lightbox;
using namespace lightbox::sqlite;
namespace fs = std::filesystem;

namespace {
std::string temp_db() {
  auto p = fs::temp_directory_path() / ("lb_sqlite_" + std::to_string(::getpid()) + "_" + std::to_string(rand()) + ".db");
  return p.string();
}
void remove_db(const std::string& p) {
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(p + suffix);
}
}  // namespace

TEST_CASE("databases open durable: WAL and synchronous=FULL") {
  auto path = temp_db();
  {
    auto db = Db::open(path);
    REQUIRE(db.ok());
    auto mode = db->prepare("PRAGMA journal_mode");
    REQUIRE(mode.ok());
    REQUIRE(*mode->step());
    CHECK(mode->text(0) == "wal");
    auto sync = db->prepare("PRAGMA synchronous");
    REQUIRE(sync.ok());
    REQUIRE(*sync->step());
    CHECK(sync->int64(0) == 2);  // FULL
    CHECK(db->quick_check().ok());
  }
  remove_db(path);
}

TEST_CASE("a transaction commits or rolls back as a whole") {
  auto path = temp_db();
  auto db = Db::open(path);
  REQUIRE(db.ok());
  REQUIRE(db->exec("CREATE TABLE t(k TEXT PRIMARY KEY, v INTEGER)").ok());
  {
    Txn txn(*db);
    REQUIRE(txn.begun().ok());
    auto ins = db->prepare("INSERT INTO t(k, v) VALUES(?, ?)");
    REQUIRE(ins.ok());
    REQUIRE(ins->bind(1, "a").bind(2, 1).run().ok());
    // dropped without commit: rolled back
  }
  {
    Txn txn(*db);
    auto ins = db->prepare("INSERT INTO t(k, v) VALUES(?, ?)");
    REQUIRE(ins->bind(1, "b").bind(2, 2).run().ok());
    auto dup = ins->bind(1, "b").bind(2, 3).run();
    CHECK_FALSE(dup.ok());
    CHECK(dup.error().code == Errc::conflict);
    REQUIRE(txn.commit().ok());
  }
  auto q = db->prepare("SELECT k, v FROM t ORDER BY k");
  REQUIRE(q.ok());
  REQUIRE(*q->step());
  CHECK(q->text(0) == "b");
  CHECK(q->int64(1) == 2);
  CHECK_FALSE(*q->step());
  remove_db(path);
}

TEST_CASE("optional text binds NULL and reads back as empty optional") {
  auto path = temp_db();
  auto db = Db::open(path);
  REQUIRE(db->exec("CREATE TABLE t(v TEXT)").ok());
  auto ins = db->prepare("INSERT INTO t(v) VALUES(?)");
  REQUIRE(ins->bind(1, std::optional<std::string>{}).run().ok());
  auto q = db->prepare("SELECT v FROM t");
  REQUIRE(*q->step());
  CHECK_FALSE(q->opt_text(0).has_value());
  remove_db(path);
}

TEST_CASE("a file that is not a database fails quick_check or open with a clear error") {
  auto path = temp_db();
  {
    FILE* f = std::fopen(path.c_str(), "wb");
    std::fputs("this is not an sqlite database at all, just text padding the header out", f);
    std::fclose(f);
  }
  auto db = Db::open(path);
  if (db.ok()) {
    CHECK_FALSE(db->quick_check().ok());
  } else {
    CHECK(db.error().code == Errc::db_error);
  }
  remove_db(path);
}
