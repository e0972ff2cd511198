#include "agent/verify/verifier.hpp"

#include <doctest/doctest.h>

#include "../temp_dir.hpp"

using namespace lightbox;
using namespace lightbox::agent;

TEST_CASE("a records batch gets the schema check, not the DICOM check") {
  test::TempDir dir;
  verify::Verifier v(verify::Policy{});
  const std::string ok = dir / "ok.json";
  test::write_text(ok, R"({"records":[{"kind":"exam","key":"E1","version":"2026-11-28T08:00:00","fields":{"patient_id":"P1"}},
                                      {"kind":"collection_task","key":"ris/1","version":"1","fields":{}}]})");
  auto good = v.check(ok, "records/exam-1.json", "records");
  CHECK(good.accepted);
  CHECK(good.records);
  CHECK(verify::looks_like_json(ok));

  auto bad = [&](const std::string& body) {
    const std::string p = dir / "bad.json";
    test::write_text(p, body);
    auto r = v.check(p, "records/bad.json", "records");
    CHECK_FALSE(r.accepted);
    CHECK(r.records);
    CHECK(r.reason_code == "records_invalid");
    return r.reason;
  };
  CHECK(bad(R"({"records":[{"kind":"photo","key":"E1","version":"1","fields":{}}]})").find("records[0]: unknown kind 'photo'") !=
        std::string::npos);
  CHECK(bad(R"({"records":[{"kind":"exam","key":"E1","version":"1","fields":{}},{"kind":"exam","key":"","version":"1","fields":{}}]})")
            .find("records[1]: key is empty") != std::string::npos);
  CHECK(bad(R"({"records":[{"kind":"exam","key":"E1","fields":{}}]})").find("version is missing") != std::string::npos);
  CHECK(bad(R"({"records":[{"kind":"exam","key":"E1","version":"1","fields":[]}]})").find("fields must be a JSON object") !=
        std::string::npos);
  CHECK(bad(R"({"records":[]})").find("empty") != std::string::npos);
  CHECK(bad(R"({"rows":[]})").find("no \"records\" array") != std::string::npos);
  CHECK(bad("not json").find("not a JSON object") != std::string::npos);
}

TEST_CASE("without the hint a JSON file is not a records batch") {
  test::TempDir dir;
  verify::Verifier v(verify::Policy{});
  const std::string p = dir / "x.json";
  test::write_text(p, R"({"records":[{"kind":"exam","key":"E1","version":"1","fields":{}}]})");
  auto r = v.check(p, "x.json");
  CHECK_FALSE(r.records);
  CHECK_FALSE(r.accepted);
}
