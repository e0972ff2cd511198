#include "agent/report/task_report.hpp"

#include <doctest/doctest.h>

#include "common/wire/records.hpp"

using namespace lightbox;
using namespace lightbox::agent;

TEST_CASE("a scan becomes one collection_task record") {
  report::TaskFacts f;
  f.source = "ris";
  f.kind = "view";
  f.started_at_ms = 1'764'316'800'000;  // 2025-11-28T08:00:00Z
  f.finished_at_ms = 1'764'316'800'250;
  f.found = 5;
  f.intake.collected = 4;
  f.intake.quarantined = 1;
  f.intake.errors = 1;
  f.intake.duplicates = 0;
  auto r = report::task_record(f);
  auto rec = wire::Record::from_json(r);
  REQUIRE(rec);
  CHECK(rec->kind == "collection_task");
  CHECK(rec->key == "ris/2025-11-28T08:00:00.000Z");
  CHECK(rec->version == "2025-11-28T08:00:00.250Z");
  CHECK(r["fields"]["source"] == "ris");
  CHECK(r["fields"]["kind"] == "view");
  CHECK(r["fields"]["found"] == 5);
  CHECK(r["fields"]["collected"] == 4);
  CHECK(r["fields"]["verified"] == 3);
  CHECK(r["fields"]["failed"] == 2);
  CHECK(r["fields"]["uploaded"] == 0);
  CHECK(r["fields"]["window_start"] == "2025-11-28T08:00:00.000Z");
  CHECK(r["fields"]["window_end"] == "2025-11-28T08:00:00.250Z");
}
