#include "agent/queue/self_check.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "agent/queue/sqlite_queue.hpp"
#include "tests/unit/agent/temp_dir.hpp"

namespace lightbox::agent::queue {

TEST_CASE("self_check: a healthy or missing queue.db is left alone") {
  test::TempDir dir;
  CHECK_FALSE(self_check(dir / "queue.db", 0).damaged);
  {
    auto q = SqliteQueue::open(dir / "queue.db");
    REQUIRE(q.ok());
  }
  auto r = self_check(dir / "queue.db", 0);
  CHECK_FALSE(r.damaged);
  CHECK(std::filesystem::exists(dir / "queue.db"));
  CHECK(r.may_need_recollection() == 0);
}

TEST_CASE("self_check: a damaged queue.db is set aside and a fresh one opens") {
  test::TempDir dir;
  {
    auto q = SqliteQueue::open(dir / "queue.db");
    REQUIRE(q.ok());
  }
  {
    std::fstream f(dir / "queue.db", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f << "this is no longer an SQLite header, just garbage bytes...........";
  }
  auto r = self_check(dir / "queue.db", 1'700'000'000'000);
  CHECK(r.damaged);
  CHECK_FALSE(r.problem.empty());
  CHECK(r.moved_to == dir / "queue.db.damaged-20231114T221320Z");
  CHECK(std::filesystem::exists(r.moved_to));
  CHECK_FALSE(std::filesystem::exists(dir / "queue.db"));
  CHECK(r.may_need_recollection() == -1);  // nothing readable: unknown
  auto fresh = SqliteQueue::open(dir / "queue.db");
  CHECK(fresh.ok());
}

}  // namespace lightbox::agent::queue
