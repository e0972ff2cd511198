#include "common/clock/clock.hpp"
#include "agent/report/heartbeat.hpp"

#include <doctest/doctest.h>

#include "agent/queue/sqlite_queue.hpp"
#include "tests/unit/agent/temp_dir.hpp"

using namespace lightbox;
using namespace lightbox::agent;

TEST_CASE("proc fields: kB lines become bytes; absent keys are -1") {
  const std::string status = "Name:\tlightbox-agent\nVmPeak:\t  20000 kB\nVmRSS:\t   12345 kB\nThreads:\t7\n";
  CHECK(report::proc_kb_field(status, "VmRSS") == 12345LL * 1024);
  CHECK(report::proc_kb_field(status, "VmSwap") == -1);
  CHECK(report::proc_kb_field("MemTotal:  100 kB\nMemAvailable: 40 kB", "MemAvailable") == 40 * 1024);
  CHECK(report::proc_kb_field("MemTotalX: 5 kB", "MemTotal") == -1);  // whole key only
}

TEST_CASE("heartbeat JSON carries queue, sources, spool, host and the agent's clock") {
  report::BeatInputs in;
  in.version = "1.2.3";
  in.interval_s = 30;
  in.uptime_s = 42;
  in.config_sha256 = std::string(64, 'c');
  in.clock_ms = 1'700'000'000'000;
  in.snapshot.now_ms = in.clock_ms;
  in.snapshot.counts.by_state[static_cast<int>(queue::State::verified)] = 3;
  in.snapshot.counts.backlog_bytes = 900;
  in.snapshot.counts.oldest_pending_at = in.clock_ms - 5000;
  in.snapshot.sources.push_back({"ct", "folder", in.clock_ms - 1000, "", 5, ""});
  in.snapshot.sources.push_back({"mr", "ftp", 0, "connection refused", 5, ""});
  in.uploaded_items = 7;
  in.uploaded_bytes = 7000;
  in.errors = {{"unavailable", 2}};
  in.spool_total = 1000;
  in.spool_free = 500;
  in.host.rss_bytes = 1 << 20;
  in.host.load1 = 0.5;

  auto j = report::build_heartbeat(in);
  CHECK(j["version"] == "1.2.3");
  CHECK(j["interval_seconds"] == 30);
  CHECK(j["uptime_s"] == 42);
  CHECK(j["clock_ms"] == in.clock_ms);
  CHECK(j["clock"] == clock::iso_utc(in.clock_ms));
  CHECK(j["queue"]["verified"] == 3);
  CHECK(j["backlog_bytes"] == 900);
  CHECK(j["oldest_pending_age_seconds"] == 5);
  CHECK(j["uploaded"]["items"] == 7);
  CHECK(j["uploaded"]["bytes"] == 7000);
  CHECK(j["errors"]["unavailable"] == 2);
  REQUIRE(j["sources"].size() == 2);
  CHECK(j["sources"][0]["last_error"].is_null());
  CHECK(j["sources"][1]["last_scan_at"].is_null());
  CHECK(j["sources"][1]["last_error"] == "connection refused");
  CHECK(j["spool"]["free_bytes"] == 500);
  CHECK(j["spool"]["disk_full"] == false);
  CHECK(j["process"]["rss_bytes"] == 1 << 20);
  CHECK(j["host"]["mem_total_bytes"].is_null());  // unknown stays null, never a fake number
  CHECK(j["host"]["load1"] == 0.5);
}

TEST_CASE("errors since the last beat: codes of items updated after it, done items excluded") {
  test::TempDir dir;
  const std::string db_path = dir / "queue.db";
  CHECK(report::errors_since(db_path, 0).value().empty());  // no queue yet: no errors
  {
    auto q = queue::SqliteQueue::open(db_path);
    REQUIRE(q.ok());
  }
  auto db = sqlite::Db::open(db_path);
  REQUIRE(db.ok());
  REQUIRE(
      db->exec("INSERT INTO "
               "items(sha256,kind,source,rel_path,size,state,last_error_code,created_at,updated_at) VALUES"
               "('a','dicom','ct','a',1,'verified','unavailable',1,2000),"
               "('b','dicom','ct','b',1,'failed','unavailable',1,3000),"
               "('c','dicom','ct','c',1,'quarantined','not_dicom',1,4000),"
               "('d','dicom','ct','d',1,'verified','timeout',1,500),"
               "('e','dicom','ct','e',1,'done',NULL,1,5000)")
          .ok());
  auto errs = report::errors_since(db_path, 1000);
  REQUIRE(errs.ok());
  CHECK(errs->size() == 2);
  CHECK((*errs)["unavailable"] == 2);
  CHECK((*errs)["not_dicom"] == 1);
  CHECK(errs->count("timeout") == 0);  // settled before the last beat
}
