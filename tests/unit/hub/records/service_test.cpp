#include "hub/records/service.hpp"

#include <doctest/doctest.h>

#include "common/hash/sha256.hpp"
#include "tests/unit/hub/test_support.hpp"

using namespace lightbox;
using namespace lightbox::hub;
using records::RecordService;
using records::Submitter;

namespace {

const std::string kUid = "1.2.826.0.1.3680043.10.7.1";

struct Fixture {
  test::ScratchDir dir;
  log::Logger log{log::Level::off};
  std::unique_ptr<index::SqliteRepository> repo = index::SqliteRepository::open(dir / "index.db").value();
  std::unique_ptr<index::SqliteRecordRepository> record_repo =
      index::SqliteRecordRepository::open(dir / "index.db").value();
  RecordService svc{*record_repo, log};
  Submitter h1{"h1", "a1"};
  Submitter h2{"h2", "b1"};

  Result<wire::BatchAnswer> post(const Submitter& who, const std::vector<nlohmann::json>& records) {
    nlohmann::json doc = nlohmann::json::object();
    doc["records"] = records;
    std::string body = doc.dump();
    return svc.ingest(who, body, hash::sha256_hex(body));
  }
  wire::BatchAnswer post_ok(const Submitter& who, const std::vector<nlohmann::json>& records) {
    auto a = post(who, records);
    if (!a) FAIL_CHECK(a.error().to_string());
    REQUIRE(a.ok());
    return *a;
  }

  // Indexes one DICOM instance of `study_uid` for h1, as an object PUT would.
  void store_instance(const std::string& study_uid, const std::string& accession, int n,
                      const std::string& modality) {
    index::ObjectRecord o;
    o.sha256 = hash::sha256_hex(study_uid + std::to_string(n));
    o.size = 100;
    o.content_type = "application/dicom";
    o.institution = "h1";
    o.agent = "a1";
    dicom::DicomFacts f;
    f.study_instance_uid = study_uid;
    f.series_instance_uid = study_uid + ".1";
    f.sop_instance_uid = study_uid + ".1." + std::to_string(n);
    f.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
    f.modality = modality;
    f.patient_id = "P1";
    f.accession_number = accession;
    f.study_date = "20261128";
    f.instance_number = n;
    o.dicom = f;
    REQUIRE(repo->record_object(o).ok());
  }
};

nlohmann::json rec(const std::string& kind, const std::string& key, const std::string& version,
                   nlohmann::json fields) {
  return {{"kind", kind}, {"key", key}, {"version", version}, {"fields", std::move(fields)}};
}

nlohmann::json exam(const std::string& key, const std::string& version,
                    const std::string& status = "reported") {
  return rec("exam", key, version,
             {{"patient_id", "P1"}, {"accession_number", "A-" + key}, {"status", status}});
}

}  // namespace

TEST_CASE("records: idempotent by (kind, key, version); newer supersedes, a late older one does not") {
  Fixture fx;
  auto a = fx.post_ok(fx.h1, {exam("E1", "2026-11-28T08:00:00Z", "registered")});
  CHECK(a.stored == 1);
  CHECK(a.already_stored == 0);
  CHECK(a.outcome == wire::StoreOutcome::Stored);
  a = fx.post_ok(fx.h1, {exam("E1", "2026-11-28T08:00:00Z", "registered")});
  CHECK(a.stored == 0);
  CHECK(a.already_stored == 1);
  CHECK(a.rejected.empty());

  a = fx.post_ok(fx.h1, {exam("E1", "2026-11-28T10:00:00Z", "reported")});
  CHECK(a.stored == 1);
  a = fx.post_ok(fx.h1, {exam("E1", "2026-11-28T09:00:00Z", "checked_in")});  // arrives late
  CHECK(a.stored == 1);

  auto v = fx.svc.versions("h1", "exam", "E1");
  REQUIRE(v.ok());
  auto& versions = (*v)["versions"];
  REQUIRE(versions.size() == 3);
  CHECK(versions[0]["version"] == "2026-11-28T10:00:00Z");
  CHECK(versions[0]["current"] == true);
  CHECK(versions[1]["version"] == "2026-11-28T09:00:00Z");
  CHECK(versions[1]["current"] == false);
  CHECK(versions[2]["version"] == "2026-11-28T08:00:00Z");
  CHECK(versions[0]["agent"] == "a1");

  auto e = fx.svc.exam("h1", "E1");
  REQUIRE(e.ok());
  CHECK((*e)["exam"]["version"] == "2026-11-28T10:00:00Z");
  CHECK((*e)["exam"]["fields"]["status"] == "reported");
}

TEST_CASE("records: the same version with other fields is a conflict; the first stays") {
  Fixture fx;
  fx.post_ok(fx.h1, {exam("E1", "v1", "registered")});
  auto a = fx.post_ok(fx.h1, {exam("E1", "v1", "reported"), exam("E2", "v1")});
  CHECK(a.stored == 1);
  REQUIRE(a.rejected.size() == 1);
  CHECK(a.rejected[0].index == 0);
  CHECK(a.rejected[0].error == "conflict");
  CHECK(a.rejected[0].field == "version");
  CHECK(a.rejected[0].key == "E1");
  CHECK((*fx.svc.exam("h1", "E1"))["exam"]["fields"]["status"] == "registered");
}

TEST_CASE("records: a batch of 3 with 1 malformed stores 2 and rejects 1 with its field path") {
  Fixture fx;
  auto bad = rec("exam", "E2", "v1", {{"patient_id", "P1"}, {"performed", "not a time"}});
  auto a = fx.post_ok(fx.h1, {exam("E1", "v1"), bad, rec("patient", "P1", "v1", {{"name", "张三"}})});
  CHECK(a.stored == 2);
  CHECK(a.already_stored == 0);
  REQUIRE(a.rejected.size() == 1);
  CHECK(a.rejected[0].index == 1);
  CHECK(a.rejected[0].kind == "exam");
  CHECK(a.rejected[0].key == "E2");
  CHECK(a.rejected[0].error == "invalid_argument");
  CHECK(a.rejected[0].field == "fields.performed");
  CHECK(fx.svc.exam("h1", "E1").ok());
  CHECK(fx.svc.exam("h1", "E2").error().code == Errc::not_found);
  CHECK((*fx.svc.versions("h1", "patient", "P1"))["versions"][0]["fields"]["name"] == "张三");

  // Shape errors are per record too, in index order.
  a = fx.post_ok(fx.h1, {42,
                         rec("visit", "V", "1", nlohmann::json::object()),
                         {{"kind", "exam"}, {"key", "E3"}, {"version", "1"}}});
  CHECK(a.stored == 0);
  REQUIRE(a.rejected.size() == 3);
  CHECK(a.rejected[0].index == 0);
  CHECK(a.rejected[1].field == "kind");
  CHECK(a.rejected[2].field == "fields");
  CHECK(a.rejected[2].key == "E3");
}

TEST_CASE("records: the batch hash is checked, and a body that is not a batch is refused whole") {
  Fixture fx;
  nlohmann::json doc = nlohmann::json::object();
  doc["records"] = std::vector<nlohmann::json>{exam("E1", "v1")};
  const std::string body = doc.dump();
  auto r = fx.svc.ingest(fx.h1, body, hash::sha256_hex(body + " "));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::hash_mismatch);
  CHECK(r.error().field == "X-Lightbox-Batch");
  CHECK(fx.svc.exam("h1", "E1").error().code == Errc::not_found);

  r = fx.svc.ingest(fx.h1, body, "not-a-hash");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::invalid_argument);
  CHECK(r.error().field == "X-Lightbox-Batch");

  for (std::string bad : {"{", "[]", R"({"records":{}})", R"({"rows":[]})"}) {
    auto x = fx.svc.ingest(fx.h1, bad, hash::sha256_hex(bad));
    REQUIRE_FALSE(x.ok());
    CHECK(x.error().code == Errc::invalid_argument);
  }
  auto ok = fx.svc.ingest(fx.h1, body, hash::sha256_hex(body));
  REQUIRE(ok.ok());
  CHECK(ok->sha256 == hash::sha256_hex(body));
  auto empty = fx.post_ok(fx.h1, {});
  CHECK(empty.stored == 0);
  CHECK(empty.rejected.empty());
}

TEST_CASE("records: an exam comes with its order, report, qc and the study linked by ris_pacs_link") {
  Fixture fx;
  fx.store_instance(kUid, "ACC9", 1, "CT");
  fx.store_instance(kUid, "ACC9", 2, "CT");
  auto a = fx.post_ok(
      fx.h1, {rec("order", "O1", "v1", {{"patient_id", "P1"}, {"accession_number", "ACC1"}}),
              rec("exam", "E1", "v1",
                  {{"patient_id", "P1"},
                   {"accession_number", "ACC1"},
                   {"order_key", "O1"},
                   {"performed", "2026-11-28"}}),
              rec("report", "R1", "v1", {{"exam_key", "E1"}, {"impression", "old"}}),
              rec("report", "R1", "v2", {{"exam_key", "E1"}, {"impression", "未见异常"}}),
              rec("qc", "Q1", "v1", {{"exam_key", "E1"}, {"grade", "甲"}, {"passed", true}}),
              rec("ris_pacs_link", "L1", "v1", {{"accession_number", "ACC1"}, {"study_uid", kUid}})});
  CHECK(a.stored == 6);
  CHECK(a.rejected.empty());
  auto e = fx.svc.exam("h1", "E1");
  REQUIRE(e.ok());
  const auto& j = *e;
  CHECK(j["exam"]["key"] == "E1");
  CHECK(j["order"]["key"] == "O1");
  CHECK(j["report"]["version"] == "v2");
  CHECK(j["report"]["fields"]["impression"] == "未见异常");
  CHECK(j["qc"]["fields"]["grade"] == "甲");
  REQUIRE(j["ris_pacs_links"].size() == 1);
  REQUIRE(j["study"].is_object());
  CHECK(j["study"]["study_uid"] == kUid);
  CHECK(j["study"]["instance_count"] == 2);
  CHECK(j["study"]["modalities"] == nlohmann::json::array({"CT"}));

  // Without a link: the order and report found by accession number, the study by the exam's UID.
  fx.post_ok(fx.h1, {rec("exam", "E2", "v1",
                         {{"patient_id", "P2"}, {"accession_number", "ACC2"}, {"study_uid", kUid}}),
                     rec("order", "O2", "v1", {{"patient_id", "P2"}, {"accession_number", "ACC2"}}),
                     rec("report", "R2", "v1", {{"accession_number", "ACC2"}})});
  e = fx.svc.exam("h1", "E2");
  REQUIRE(e.ok());
  CHECK((*e)["order"]["key"] == "O2");
  CHECK((*e)["report"]["key"] == "R2");
  CHECK((*e)["qc"].is_null());
  CHECK((*e)["study"]["study_uid"] == kUid);

  // And by the study's own accession number.
  fx.post_ok(fx.h1, {rec("exam", "E3", "v1", {{"patient_id", "P1"}, {"accession_number", "ACC9"}})});
  e = fx.svc.exam("h1", "E3");
  REQUIRE(e.ok());
  CHECK((*e)["study"]["study_uid"] == kUid);
  CHECK((*e)["order"].is_null());

  // An exam with nothing linked: nulls, not errors.
  fx.post_ok(fx.h1, {rec("exam", "E4", "v1", {{"patient_id", "P1"}})});
  e = fx.svc.exam("h1", "E4");
  REQUIRE(e.ok());
  CHECK((*e)["study"].is_null());
  CHECK((*e)["studies"].empty());
  CHECK((*e)["report"].is_null());
}

TEST_CASE("records: exams by patient and collection tasks by source") {
  Fixture fx;
  fx.post_ok(fx.h1, {exam("E1", "v1"), exam("E2", "v1"), rec("exam", "E3", "v1", {{"patient_id", "P9"}}),
                     exam("E1", "v2")});
  auto list = fx.svc.list_exams("h1", "P1", 100, 0);
  REQUIRE(list.ok());
  CHECK((*list)["exams"].size() == 2);  // E1 once, at its current version
  for (const auto& x : (*list)["exams"]) {
    CHECK(x["fields"]["patient_id"] == "P1");
    if (x["key"] == "E1") CHECK(x["version"] == "v2");
  }
  CHECK((*fx.svc.list_exams("h1", "", 100, 0))["exams"].size() == 3);
  CHECK((*fx.svc.list_exams("h1", "", 1, 0))["exams"].size() == 1);
  CHECK((*fx.svc.list_exams("h1", "nobody", 100, 0))["exams"].empty());

  auto task = [](const std::string& key, const std::string& source, int found) {
    return rec("collection_task", key, "2026-11-28T08:00:00Z",
               {{"source", source},
                {"kind", "view"},
                {"found", found},
                {"collected", found},
                {"verified", found},
                {"uploaded", found},
                {"failed", 0},
                {"window_start", "2026-11-28T07:00:00Z"},
                {"window_end", "2026-11-28T08:00:00Z"}});
  };
  fx.post_ok(fx.h1, {task("t1", "ris", 3), task("t2", "pacs", 5), task("t3", "ris", 1)});
  auto tasks = fx.svc.list_tasks("h1", "ris", 100, 0);
  REQUIRE(tasks.ok());
  REQUIRE((*tasks)["tasks"].size() == 2);
  CHECK((*tasks)["tasks"][0]["fields"]["source"] == "ris");
  CHECK((*fx.svc.list_tasks("h1", "", 100, 0))["tasks"].size() == 3);
  CHECK((*fx.svc.list_tasks("h1", "", 2, 0))["tasks"].size() == 2);
}

TEST_CASE("records: each institution sees only its own records") {
  Fixture fx;
  fx.store_instance(kUid, "ACC1", 1, "MR");
  fx.post_ok(fx.h1, {exam("E1", "v1")});
  CHECK(fx.svc.exam("h2", "E1").error().code == Errc::not_found);
  CHECK(fx.svc.versions("h2", "exam", "E1").error().code == Errc::not_found);
  CHECK((*fx.svc.list_exams("h2", "P1", 100, 0))["exams"].empty());
  // The same key from another institution is another record; h2 cannot see h1's study either.
  auto a = fx.post_ok(fx.h2, {rec("exam", "E1", "v1", {{"patient_id", "P1"}, {"study_uid", kUid}})});
  CHECK(a.stored == 1);
  auto e = fx.svc.exam("h2", "E1");
  REQUIRE(e.ok());
  CHECK((*e)["study"].is_null());
  CHECK((*e)["study_uids"] == nlohmann::json::array({kUid}));
  CHECK((*fx.svc.versions("h1", "exam", "E1"))["versions"].size() == 1);
  CHECK(fx.svc.versions("h1", "visit", "E1").error().field == "kind");
}
