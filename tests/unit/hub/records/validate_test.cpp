#include "hub/records/validate.hpp"

#include <doctest/doctest.h>

using namespace lightbox;
using hub::records::validate;
using wire::Record;

namespace {

Record rec(std::string kind, nlohmann::json fields) {
  return Record{std::move(kind), "K1", "2026-11-28T08:00:00Z", std::move(fields)};
}

// The field path of the validation error, or "" when the record is valid.
std::string problem(const Record& r) {
  auto s = validate(r);
  return s ? std::string() : s.error().field;
}

}  // namespace

TEST_CASE("validate: a minimal valid record of every kind") {
  const std::string uid = "1.2.826.0.1.3680043.10.1.1";
  CHECK(problem(rec("order", {{"patient_id", "P1"}, {"apply_time", "2026-11-28 07:00:00"}})) == "");
  CHECK(problem(rec("exam", {{"patient_id", "P1"},
                             {"accession_number", "A1"},
                             {"requested", "2026-11-28T07:00:00+08:00"},
                             {"performed", "2026-11-28T07:30:00Z"},
                             {"expected_instances", 12},
                             {"modality", "CT"},
                             {"影像号", "kept as sent"}})) == "");
  CHECK(problem(rec("report",
                    {{"exam_key", "E1"}, {"findings", "双肺纹理清晰"}, {"impression", "未见异常"}})) == "");
  CHECK(problem(rec("report", {{"accession_number", "A1"}})) == "");
  CHECK(problem(rec("report_indicator", {{"report_key", "R1"}, {"name", "EF"}, {"value", 61.5}})) == "");
  CHECK(problem(rec("series", {{"study_uid", uid}, {"series_uid", uid + ".1"}, {"instance_count", 3}})) ==
        "");
  CHECK(problem(rec("report_image", {{"report_key", "R1"}, {"sha256", std::string(64, 'c')}})) == "");
  CHECK(problem(rec("media_server", {{"protocol", "DICOM"}, {"ae_title", "PACS"}})) == "");
  CHECK(problem(rec("patient", {{"name", "张三"}, {"birth_date", "1980-02-29"}})) == "");
  CHECK(problem(rec("ris_pacs_link", {{"accession_number", "A1"}, {"study_uid", uid}})) == "");
  CHECK(problem(rec("qc", {{"exam_key", "E1"}, {"grade", "甲"}, {"passed", true}})) == "");
  CHECK(problem(rec("authorization", {{"patient_id", "P1"}, {"expires_at", "2026-11-29T00:00:00Z"}})) == "");
  CHECK(problem(rec("citation", {{"report_key", "R1"}, {"cited_time", "2026-11-28T09:00Z"}})) == "");
  CHECK(problem(rec("recognition", {{"decision", "recognized"}, {"exam_key", "E1"}})) == "");
  CHECK(problem(rec("collection_task", {{"source", "ris"},
                                        {"kind", "view"},
                                        {"window_start", "2026-11-28T00:00:00Z"},
                                        {"window_end", "2026-11-28T08:00:00Z"},
                                        {"found", 3},
                                        {"collected", 3},
                                        {"verified", 3},
                                        {"uploaded", 2},
                                        {"failed", 1}})) == "");
}

TEST_CASE("validate: required fields per kind, NULL and empty count as missing") {
  CHECK(problem(rec("exam", nlohmann::json::object())) == "fields.patient_id");
  CHECK(problem(rec("exam", {{"patient_id", nullptr}})) == "fields.patient_id");
  CHECK(problem(rec("exam", {{"patient_id", ""}})) == "fields.patient_id");
  CHECK(problem(rec("exam", {{"patient_id", 12345}})) == "");  // numeric ids from a DB column
  CHECK(problem(rec("order", {{"apply_dept", "x"}})) == "fields.patient_id");
  CHECK(problem(rec("report", {{"findings", "x"}})) == "fields.exam_key");
  CHECK(problem(rec("report_indicator", {{"report_key", "R1"}})) == "fields.code");
  CHECK(problem(rec("series", {{"study_uid", "1.2.3"}})) == "fields.series_uid");
  CHECK(problem(rec("ris_pacs_link", {{"study_uid", "1.2.3"}})) == "fields.accession_number");
  CHECK(problem(rec("qc", {{"grade", 1}})) == "fields.exam_key");
  CHECK(problem(rec("collection_task", {{"source", "ris"}})) == "fields.kind");
  CHECK(problem(rec("patient", {{"sex", "M"}})) == "fields.name");
}

TEST_CASE("validate: field types, with the path of the bad field") {
  CHECK(problem(rec("exam", {{"patient_id", "P1"}, {"performed", "yesterday"}})) == "fields.performed");
  CHECK(problem(rec("exam", {{"patient_id", "P1"}, {"performed", 20261128}})) == "fields.performed");
  CHECK(problem(rec("exam", {{"patient_id", "P1"}, {"performed", nullptr}})) == "");  // NULL = absent
  CHECK(problem(rec("exam", {{"patient_id", "P1"}, {"study_uid", "1.02.3"}})) == "fields.study_uid");
  CHECK(problem(rec("exam", {{"patient_id", "P1"}, {"expected_instances", -1}})) ==
        "fields.expected_instances");
  CHECK(problem(rec("exam", {{"patient_id", "P1"}, {"expected_instances", "12"}})) ==
        "fields.expected_instances");
  CHECK(problem(rec("exam", {{"patient_id", {{"a", 1}}}})) == "fields.patient_id");
  CHECK(problem(rec("qc", {{"exam_key", "E1"}, {"passed", "yes"}})) == "fields.passed");
  CHECK(problem(rec("qc", {{"exam_key", "E1"}, {"score", "high"}})) == "fields.score");
  CHECK(problem(rec("report_image", {{"report_key", "R1"}, {"sha256", "ABC"}})) == "fields.sha256");
  CHECK(problem(rec("order", {{"patient_id", "P1"}, {"items", "CT head"}})) == "fields.items");
  CHECK(problem(rec("collection_task", {{"source", "s"}, {"kind", "ftp"}, {"found", 1.5}})) ==
        "fields.found");
  auto s = validate(rec("exam", {{"patient_id", "P1"}, {"performed", "yesterday"}}));
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == Errc::invalid_argument);
  CHECK(s.error().message.find("fields.performed") != std::string::npos);
}

TEST_CASE("validate: kind, key and version") {
  CHECK(problem(rec("visit", {{"x", 1}})) == "kind");
  Record r = rec("patient", {{"name", "n"}});
  r.key = std::string(300, 'k');
  CHECK(problem(r) == "key");
  r.key = "bad\nkey";
  CHECK(problem(r) == "key");
  r.key = "K";
  r.version = std::string(65, '9');
  CHECK(problem(r) == "version");
  r.version = "";
  CHECK(problem(r) == "version");
  r.version = "000042";  // any sortable string
  CHECK(problem(r) == "");
}

TEST_CASE("is_iso_time") {
  using hub::records::is_iso_time;
  for (auto ok : {"2026-11-28", "2026-11-28T08:00", "2026-11-28T08:00:00", "2026-11-28 08:00:00.123456",
                  "2026-11-28T08:00:00Z", "2026-11-28T08:00:00+08:00", "2026-11-28T08:00:00-0500",
                  "2026-11-28T08:00+08"})
    CHECK_MESSAGE(is_iso_time(ok), ok);
  for (auto bad :
       {"", "2026-13-01", "2026-11-00", "2026/11/28", "20261128", "2026-11-28T25:00", "2026-11-28T08",
        "2026-11-28T08:00:00.", "2026-11-28T08:00:00ZZ", "2026-11-28T08:00:00+8", "2026-11-28x"})
    CHECK_FALSE_MESSAGE(is_iso_time(bad), bad);
}
