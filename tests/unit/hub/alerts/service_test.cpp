// Issue 4 (alerts): the evaluator over a real index.db: the absence rule reads objects and
// records per institution and local day (UTC+8 here), caches past days, re-probes today.
#include "hub/alerts/service.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "common/sqlite/db.hpp"
#include "tests/unit/hub/test_support.hpp"

using namespace lightbox;
using namespace lightbox::hub;
using namespace lightbox::hub::alerts;

namespace {

// Wednesday 2026-11-25 12:00 at UTC+8 (04:00 UTC).
constexpr std::int64_t kNow = 1795579200000LL;

void object(sqlite::Db& db, const std::string& inst, const std::string& sha, const std::string& at) {
  auto o = db.prepare(
      "INSERT OR IGNORE INTO objects(sha256,size,kind,content_type,stored_at) VALUES(?,1,'dicom','',?)");
  REQUIRE(o.ok());
  o->bind(1, sha).bind(2, at);
  REQUIRE(o->run().ok());
  auto s = db.prepare("INSERT INTO object_senders(sha256,institution,agent,first_at) VALUES(?,?,'a',?)");
  REQUIRE(s.ok());
  s->bind(1, sha).bind(2, inst).bind(3, at);
  REQUIRE(s->run().ok());
}

void record(sqlite::Db& db, const std::string& inst, const std::string& key, const std::string& at) {
  auto r = db.prepare(
      "INSERT INTO records(institution,kind,key,version,fields,received_at,agent) "
      "VALUES(?,'exam',?,'1','{}',?,'a')");
  REQUIRE(r.ok());
  r->bind(1, inst).bind(2, key).bind(3, at);
  REQUIRE(r->run().ok());
}

}  // namespace

TEST_CASE("alerts service: absence from objects and records per local day") {
  test::ScratchDir dir;
  const std::string path = dir / "index.db";
  log::Logger log{log::Level::off};
  auto fleet = fleet::FleetRepository::open(path).value();
  AlertsConfig cfg;
  cfg.absence.lookback_days = 5;
  cfg.absence.min_active_days = 3;
  auto svc = AlertService::open(cfg, path, *fleet, log).value();

  auto db = sqlite::Db::open(path).value();
  REQUIRE(db.exec("INSERT INTO institutions(id,name,created_at) VALUES('h1','',''),('h2','',''),('h3','',''),"
                  "('h4','','')")
              .ok());
  int n = 0;
  auto sha = [&] {
    std::string s = std::to_string(++n);
    return std::string(64 - s.size(), '0') + s;
  };
  for (const char* day : {"2026-11-19", "2026-11-20", "2026-11-23"}) {
    const std::string at = std::string(day) + "T02:00:00.000Z";  // 10:00 local
    object(db, "h1", sha(), at);
    object(db, "h2", sha(), at);
    record(db, "h3", std::string("exam-") + day, at);
    object(db, "h4", sha(), at);
  }
  // h2 sent this morning; h4 sent at 01:00 local today, which is still yesterday in UTC.
  object(db, "h2", sha(), "2026-11-25T01:00:00.000Z");
  object(db, "h4", sha(), "2026-11-24T17:00:00.000Z");

  auto changes = svc->evaluate_once(kNow);
  REQUIRE(changes.ok());
  std::vector<std::string> absent;
  for (const auto& c : *changes) {
    CHECK(c.alert.key.rule == "absence");
    CHECK(c.event == "firing");
    absent.push_back(c.alert.key.institution);
  }
  std::sort(absent.begin(), absent.end());
  CHECK(absent == std::vector<std::string>{"h1", "h3"});

  // h1 sends now: the next evaluation (same day, past days cached) resolves it.
  object(db, "h1", sha(), "2026-11-25T04:30:00.000Z");
  changes = svc->evaluate_once(kNow + 3600000);
  REQUIRE(changes.ok());
  REQUIRE(changes->size() == 1);
  CHECK(changes->at(0).alert.key.institution == "h1");
  CHECK(changes->at(0).event == "resolved");
  CHECK(svc->store().list(true, 10).value().size() == 1);
}
