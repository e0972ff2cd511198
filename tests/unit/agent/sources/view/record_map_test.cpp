#include "agent/sources/view/record_map.hpp"

#include <doctest/doctest.h>

#include "common/wire/records.hpp"

using namespace lightbox;
using namespace lightbox::agent::sources::view;

namespace {

Value text(std::string s) {
  Value v;
  v.type = Value::Type::text;
  v.text = std::move(s);
  return v;
}
Value num(std::int64_t n) {
  Value v;
  v.type = Value::Type::integer;
  v.integer = n;
  return v;
}
Value ts(const char* s) {
  Value v;
  v.type = Value::Type::timestamp;
  v.ts = *Timestamp::parse(s);
  return v;
}

RecordMap exam_map() {
  return RecordMap{"exam", "ACCESSION", "updated_at", {{"patient_id", "pat_id"}, {"patient_name", "pat_name"},
                                                       {"performed", "exam_time"}, {"expected_instances", "n"}}};
}

const std::vector<std::string> kColumns{"accession", "pat_id", "pat_name", "exam_time", "updated_at", "n"};

}  // namespace

TEST_CASE("timestamps parse, print and move back by whole seconds") {
  auto t = Timestamp::parse("2026-03-01 00:04:00.5");
  REQUIRE(t);
  CHECK(t->fraction_ns == 500'000'000u);
  CHECK(t->iso() == "2026-03-01T00:04:00.5");
  CHECK(t->minus_seconds(300).iso() == "2026-02-28T23:59:00.5");  // not a leap year
  CHECK(Timestamp::parse("2024-03-01T00:00:00")->minus_seconds(1).iso() == "2024-02-29T23:59:59");
  CHECK(Timestamp::parse("2027-01-01T00:00:00")->minus_seconds(86400 * 365).iso() == "2026-01-01T00:00:00");
  CHECK(Timestamp::parse("1970-01-01T00:00:00")->epoch_seconds() == 0);
  CHECK(Timestamp::from_epoch_seconds(-1).iso() == "1969-12-31T23:59:59");
  CHECK(Timestamp::parse("2026-11-28T08:00:00.000001")->iso() == "2026-11-28T08:00:00.000001");
  CHECK_FALSE(Timestamp::parse("2026-11-28"));
  CHECK_FALSE(Timestamp::parse("2026-13-01 00:00:00"));
  CHECK_FALSE(Timestamp::parse("2026-11-28 08:00:00Z"));
  CHECK(*Timestamp::parse("2026-11-28 08:00:00") < *Timestamp::parse("2026-11-28 08:00:00.1"));
}

TEST_CASE("the watermark's lower bound is ts - lookback - 1 s, whole seconds") {
  Watermark w{*Timestamp::parse("2026-11-28T08:00:00.250"), "E9"};
  CHECK(w.lower_bound(300).iso() == "2026-11-28T07:54:59");
  CHECK(w.lower_bound(0).iso() == "2026-11-28T07:59:59");
  // Rows sharing the watermark's timestamp, or committed late within the look-back, are >= it.
  CHECK(*Timestamp::parse("2026-11-28T08:00:00") >= w.lower_bound(0));
  CHECK(*Timestamp::parse("2026-11-28T07:56:00") >= w.lower_bound(300));
  CHECK(*Timestamp::parse("2026-11-28T07:54:00") < w.lower_bound(300));
}

TEST_CASE("the watermark round-trips through its JSON text") {
  Watermark w{*Timestamp::parse("2026-11-28T08:00:00.25"), "E\"9"};
  auto back = Watermark::parse(w.to_json_text());
  REQUIRE(back);
  REQUIRE(*back);
  CHECK(**back == w);
  CHECK_FALSE(Watermark::parse("").value().has_value());
  CHECK_FALSE(Watermark::parse("{\"ts\": 5}").ok());
  CHECK_FALSE(Watermark::parse("not json").ok());
}

TEST_CASE("columns are found case-insensitively; every missing one is named") {
  auto ix = index_columns(exam_map(), kColumns);
  REQUIRE(ix);
  CHECK(ix->key == 0);
  CHECK(ix->version == 4);
  CHECK(ix->fields == std::vector<std::size_t>{1, 2, 3, 5});
  auto m = exam_map();
  m.fields.push_back({"modality", "MODALITY"});
  m.fields.push_back({"body_part", "\"Body Part\""});
  auto bad = index_columns(m, kColumns);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "missing columns: MODALITY, \"Body Part\"");
}

TEST_CASE("a row maps to a canonical record that passes the wire schema") {
  auto ix = index_columns(exam_map(), kColumns).value();
  std::vector<Value> row{text("E1"), text("P1"), text("王小明"), ts("2026-11-28 08:00:00"), ts("2026-11-28 09:30:00.5"),
                         num(120)};
  auto r = map_row(exam_map(), ix, row);
  REQUIRE(r);
  CHECK(r->key == "E1");
  CHECK(r->record["kind"] == "exam");
  CHECK(r->record["version"] == "2026-11-28T09:30:00.5");
  CHECK(r->record["fields"]["patient_name"] == "王小明");
  CHECK(r->record["fields"]["performed"] == "2026-11-28T08:00:00");
  CHECK(r->record["fields"]["expected_instances"] == 120);
  CHECK(wire::Record::from_json(r->record).ok());
  row[2] = Value{};  // NULL stays null
  CHECK(map_row(exam_map(), ix, row)->record["fields"]["patient_name"].is_null());
}

TEST_CASE("rows without a key or version are errors the source counts and skips") {
  auto ix = index_columns(exam_map(), kColumns).value();
  std::vector<Value> row{Value{}, text("P1"), text("x"), Value{}, ts("2026-11-28 09:30:00"), Value{}};
  auto r = map_row(exam_map(), ix, row);
  REQUIRE_FALSE(r);
  CHECK(r.error().field == "key");
  row[0] = text("E2");
  row[4] = Value{};
  CHECK(map_row(exam_map(), ix, row).error().field == "version");
}

TEST_CASE("the content hash is stable and changes with any value") {
  auto ix = index_columns(exam_map(), kColumns).value();
  std::vector<Value> row{text("E1"), text("P1"), text("王小明"), Value{}, ts("2026-11-28 09:30:00"), num(3)};
  const auto a = map_row(exam_map(), ix, row).value();
  const auto b = map_row(exam_map(), ix, row).value();
  CHECK(a.hash == b.hash);
  CHECK(a.hash.size() == 64);
  // The same record built in another member order hashes the same (keys are sorted).
  nlohmann::json other = {{"fields", a.record["fields"]}, {"version", a.record["version"]}, {"key", "E1"}, {"kind", "exam"}};
  CHECK(record_hash(other) == a.hash);
  // Re-reading a batch file (as mark_collected does) gives the hash the scan compared.
  auto reread = nlohmann::json::parse(batch_json({a.record}))["records"][0];
  CHECK(record_hash(reread) == a.hash);
  row[2] = text("王小明（更正）");
  CHECK(map_row(exam_map(), ix, row)->hash != a.hash);
  row[2] = text("王小明");
  row[4] = ts("2026-11-28 09:30:01");
  CHECK(map_row(exam_map(), ix, row)->hash != a.hash);
}

TEST_CASE("a batch is {\"records\":[...]} and survives bytes that are not UTF-8") {
  nlohmann::json rec = {{"kind", "exam"}, {"key", "E1"}, {"version", "v1"}, {"fields", {{"name", "ok"}}}};
  auto j = nlohmann::json::parse(batch_json({rec, rec}));
  REQUIRE(j["records"].is_array());
  CHECK(j["records"].size() == 2);
  CHECK(j["records"][0] == rec);
  nlohmann::json bad = rec;
  bad["fields"]["name"] = std::string("\xff\xfe", 2);
  auto k = nlohmann::json::parse(batch_json({bad}));
  CHECK(k["records"][0]["fields"]["name"] == "\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(record_hash(bad).size() == 64);
}
