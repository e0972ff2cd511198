#include "agent/report/status.hpp"

#include <doctest/doctest.h>

#include "tests/unit/agent/temp_dir.hpp"

using namespace lightbox;
using namespace lightbox::agent;

TEST_CASE("status JSON has the contract's shape, read from a read-only connection") {
  test::TempDir dir;
  const std::string db = dir / "queue.db";
  {
    auto q = queue::SqliteQueue::open(db);
    REQUIRE(q.ok());
    auto seen = sources::SeenStore::open(db);
    REQUIRE(seen.ok());
    REQUIRE(seen->record_scan({"ct", "folder", 1'700'000'000'000, ""}).ok());
    REQUIRE((*q)->insert({{std::string(64, 'a'), "dicom", "ct", "a.dcm", 10, queue::State::verified, {}, {}},
                          {std::string(64, 'b'), "dicom", "ct", "b.dcm", 20, queue::State::verified, {}, {}},
                          {std::string(64, 'c'), "dicom", "ct", "c.bin", 5, queue::State::quarantined, "not_dicom", "no DICM"}},
                         1'700'000'000'000).ok());
    auto a = **(*q)->claim(1'700'000'000'000);
    REQUIRE((*q)->settle(a.id, queue::State::uploading,
                         {queue::State::failed, 0, true, "unauthorized", "credential revoked"}, 1'700'000'001'000).ok());
  }
  auto snap = report::read_snapshot(db, 1'700'000'060'000);
  REQUIRE(snap.ok());
  auto j = report::to_json(*snap);
  CHECK(j["queue"]["verified"] == 1);
  CHECK(j["queue"]["failed"] == 1);
  CHECK(j["queue"]["quarantined"] == 1);
  CHECK(j["queue"]["done"] == 0);
  CHECK(j["queue"].contains("collected"));
  CHECK(j["queue"].contains("uploading"));
  CHECK(j["backlog_bytes"] == 20);
  CHECK(j["oldest_pending_age_seconds"] == 60);
  REQUIRE(j["recent_errors"].size() == 1);
  CHECK(j["recent_errors"][0]["error"] == "unauthorized");
  CHECK(j["recent_errors"][0]["message"] == "credential revoked");
  CHECK(j["recent_errors"][0]["path"] == "a.dcm");
  CHECK(j["recent_errors"][0]["at"] == "2023-11-14T22:13:21Z");
  REQUIRE(j["quarantined"].size() == 1);
  CHECK(j["quarantined"][0]["reason_code"] == "not_dicom");
  CHECK(j["quarantined"][0]["path"] == "c.bin");
  REQUIRE(j["sources"].size() == 1);
  CHECK(j["sources"][0]["name"] == "ct");
  CHECK(j["sources"][0]["last_error"].is_null());
  CHECK(j["uploaded_bytes"] == 0);
  CHECK(report::to_text(*snap).find("quarantined 1") != std::string::npos);
}

TEST_CASE("a queue that does not exist yet is empty, not an error") {
  test::TempDir dir;
  auto snap = report::read_snapshot(dir / "none.db", 0);
  REQUIRE(snap.ok());
  auto j = report::to_json(*snap);
  CHECK(j["queue"]["verified"] == 0);
  CHECK(j["oldest_pending_age_seconds"].is_null());
}
