#include "common/wire/records.hpp"

#include <doctest/doctest.h>

using namespace lightbox;
using wire::BatchAnswer;
using wire::Record;

TEST_CASE("record kinds: the 13 collection objects plus collection_task") {
  CHECK(wire::kRecordKinds.size() == 14);
  for (auto k :
       {"order", "exam", "report", "report_indicator", "series", "report_image", "media_server", "patient",
        "ris_pacs_link", "qc", "authorization", "citation", "recognition", "collection_task"})
    CHECK(wire::is_record_kind(k));
  CHECK_FALSE(wire::is_record_kind("Exam"));
  CHECK_FALSE(wire::is_record_kind(""));
}

TEST_CASE("record: JSON round trip and the batch body shape") {
  Record r{
      "exam", "E123", "2026-11-28T08:00:00Z", {{"patient_id", "P1"}, {"performed", "2026-11-28T07:55:00Z"}}};
  auto j = r.to_json();
  CHECK(j == nlohmann::json::parse(
                 R"({"kind":"exam","key":"E123","version":"2026-11-28T08:00:00Z",
                     "fields":{"patient_id":"P1","performed":"2026-11-28T07:55:00Z"}})"));
  auto back = Record::from_json(j);
  REQUIRE(back.ok());
  CHECK(back->key == "E123");
  CHECK(back->fields["patient_id"] == "P1");
  auto batch = wire::batch_to_json({r, r});
  REQUIRE(batch["records"].is_array());
  CHECK(batch["records"].size() == 2);
  CHECK(batch.size() == 1);  // institution never travels in the body
}

TEST_CASE("record: malformed shapes name the member") {
  auto field_of = [](const char* text) {
    auto r = Record::from_json(nlohmann::json::parse(text));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::invalid_argument);
    return r.error().field;
  };
  CHECK(field_of(R"({"key":"k","version":"1","fields":{}})") == "kind");
  CHECK(field_of(R"({"kind":"exam","key":5,"version":"1","fields":{}})") == "key");
  CHECK(field_of(R"({"kind":"exam","key":"k","version":"","fields":{}})") == "version");
  CHECK(field_of(R"({"kind":"exam","key":"k","version":"1"})") == "fields");
  CHECK(field_of(R"({"kind":"exam","key":"k","version":"1","fields":[1]})") == "fields");
  CHECK_FALSE(Record::from_json(nlohmann::json::array()).ok());
}

TEST_CASE("batch answer: exact contract JSON and parse back") {
  BatchAnswer a;
  a.sha256 = std::string(64, 'a');
  a.stored = 2;
  a.already_stored = 1;
  a.rejected.push_back({1, "exam", "E2", "invalid_argument", "bad time", "fields.performed"});
  a.rejected.push_back({3, "", "", "invalid_argument", "record is not a JSON object", ""});
  auto j = a.to_json();
  CHECK(j == nlohmann::json::parse(R"({"sha256":")" + a.sha256 + R"(","outcome":"Stored","stored":2,
      "already_stored":1,"rejected":[
        {"index":1,"kind":"exam","key":"E2","error":"invalid_argument","message":"bad time","field":"fields.performed"},
        {"index":3,"kind":"","key":"","error":"invalid_argument","message":"record is not a JSON object","field":null}]})"));
  auto back = BatchAnswer::from_json(j);
  REQUIRE(back.ok());
  CHECK(back->sha256 == a.sha256);
  CHECK(back->outcome == wire::StoreOutcome::Stored);
  CHECK(back->stored == 2);
  CHECK(back->already_stored == 1);
  REQUIRE(back->rejected.size() == 2);
  CHECK(back->rejected[0].field == "fields.performed");
  CHECK(back->rejected[1].field.empty());
  CHECK_FALSE(BatchAnswer::from_json(nlohmann::json::object()).ok());
  CHECK_FALSE(BatchAnswer::from_json({{"sha256", "x"}, {"outcome", "Maybe"}}).ok());
}
