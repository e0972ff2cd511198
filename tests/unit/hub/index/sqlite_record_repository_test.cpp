#include "hub/index/record_repository.hpp"

#include <doctest/doctest.h>

#include "tests/unit/hub/test_support.hpp"

using namespace lightbox;
using namespace lightbox::hub;
using index::PutOutcome;

namespace {

wire::Record rec(std::string kind, std::string key, std::string version, nlohmann::json fields) {
  return wire::Record{std::move(kind), std::move(key), std::move(version), std::move(fields)};
}

}  // namespace

TEST_CASE("record index: outcomes, current version, and survival across reopen") {
  test::ScratchDir dir;
  {
    auto repo = index::SqliteRecordRepository::open(dir / "index.db");
    REQUIRE(repo.ok());
    auto& r = **repo;
    auto out = r.put_records(
        "h1", "a1",
        {rec("exam", "E1", "2", {{"patient_id", "P1"}}), rec("exam", "E1", "2", {{"patient_id", "P1"}}),
         rec("exam", "E1", "1", {{"patient_id", "P0"}}), rec("exam", "E1", "2", {{"patient_id", "PX"}})});
    REQUIRE(out.ok());
    CHECK(*out == std::vector<PutOutcome>{PutOutcome::Stored, PutOutcome::AlreadyStored, PutOutcome::Stored,
                                          PutOutcome::Conflict});
    CHECK(r.put_records("h1", "a1", {}).value().empty());
  }
  auto repo = index::SqliteRecordRepository::open(dir / "index.db");
  REQUIRE(repo.ok());
  auto& r = **repo;
  auto cur = r.current("h1", "exam", "E1");
  REQUIRE(cur.ok());
  REQUIRE(cur->has_value());
  CHECK((*cur)->version == "2");
  CHECK((*cur)->fields["patient_id"] == "P1");
  CHECK((*cur)->current);
  CHECK_FALSE(r.current("h2", "exam", "E1").value().has_value());
  auto all = r.versions("h1", "exam", "E1");
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[1].version == "1");
  CHECK_FALSE((*all)[1].current);

  // The link columns follow the current version: E1 is P1's, not P0's.
  index::RecordQuery q;
  q.kind = "exam";
  q.by = index::LinkField::patient_id;
  q.value = "P0";
  CHECK(r.list_current("h1", q).value().empty());
  q.value = "P1";
  CHECK(r.list_current("h1", q).value().size() == 1);
  // A newer version moves the links.
  REQUIRE(r.put_records("h1", "a1", {rec("exam", "E1", "3", {{"patient_id", "P3"}})}).ok());
  CHECK(r.list_current("h1", q).value().empty());
  q.value = "P3";
  CHECK(r.list_current("h1", q).value().size() == 1);
  CHECK(r.find_studies("h1", {"1.2.3"}, "").value().empty());
}
