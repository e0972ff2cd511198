#include "agent/sources/view/view_config.hpp"

#include <doctest/doctest.h>

using namespace lightbox;
using namespace lightbox::agent::sources::view;

namespace {

nlohmann::json good() {
  return nlohmann::json::parse(R"({
    "name": "ris", "kind": "view", "dsn": "ris_pg", "username": "edge", "password": "secret",
    "view": "v_exams", "record_kind": "exam",
    "watermark": {"timestamp_column": "updated_at", "key_column": "id", "lookback_seconds": 120},
    "map": {"key": "accession_no", "version": "updated_at",
            "fields": {"patient_id": "pat_id", "performed": "exam_time"}},
    "batch_rows": 50, "encoding": "gbk"})");
}

struct Parsed {
  ViewConfig cfg;
  std::string problems;
};

Parsed parse(const nlohmann::json& j) {
  config::Problems p;
  config::Node n(j, "sources[1]", p);
  std::string name, kind;
  n.get("name", name);
  n.get("kind", kind);
  ViewConfig base;
  base.name = name;
  Parsed out{parse_view_config(n, base), {}};
  n.finish();
  out.problems = p.to_string();
  return out;
}

}  // namespace

TEST_CASE("a complete view config parses into typed fields") {
  auto r = parse(good());
  CHECK(r.problems == "");
  CHECK(r.cfg.connection_string == "DSN=ris_pg");
  CHECK(r.cfg.username.reveal() == "edge");
  CHECK(r.cfg.password.reveal() == "secret");
  CHECK(r.cfg.view == "v_exams");
  CHECK(r.cfg.timestamp_column == "updated_at");
  CHECK(r.cfg.key_column == "id");
  CHECK(r.cfg.lookback_seconds == 120);
  CHECK(r.cfg.batch_rows == 50);
  CHECK(r.cfg.max_records_per_poll == 50000);
  CHECK(r.cfg.text == TextMode::gbk);
  CHECK(r.cfg.poll_seconds == 60);
  CHECK(r.cfg.map.record_kind == "exam");
  CHECK(r.cfg.map.key_column == "accession_no");
  REQUIRE(r.cfg.map.fields.size() == 2);
  CHECK(r.cfg.map.fields[0] == std::pair<std::string, std::string>{"patient_id", "pat_id"});
}

TEST_CASE("key_column defaults to map.key and version to the timestamp column") {
  auto j = good();
  j["watermark"].erase("key_column");
  j["map"].erase("version");
  auto r = parse(j);
  CHECK(r.problems == "");
  CHECK(r.cfg.key_column == "accession_no");
  CHECK(r.cfg.map.version_column == "updated_at");
  CHECK(r.cfg.text == TextMode::gbk);
}

TEST_CASE("map errors name their full path") {
  auto j = good();
  j["map"]["fields"]["performed"] = "exam_time; DROP TABLE x";
  j["map"]["fields"]["bad name"] = "x";
  j["map"].erase("key");
  j["watermark"]["lookback_seconds"] = -1;
  j["record_kind"] = "photo";
  j["map"]["extra"] = 1;
  auto r = parse(j);
  CHECK(r.problems.find("sources[1].map.fields.performed: must be a column name") != std::string::npos);
  CHECK(r.problems.find("sources[1].map.fields.bad name: record field names are plain words") != std::string::npos);
  CHECK(r.problems.find("sources[1].map.key: is required") != std::string::npos);
  CHECK(r.problems.find("sources[1].watermark.lookback_seconds") != std::string::npos);
  CHECK(r.problems.find("sources[1].record_kind") != std::string::npos);
  CHECK(r.problems.find("sources[1].map.extra: unknown key") != std::string::npos);
}

TEST_CASE("view and select exclude each other; dsn and connection_string too") {
  auto j = good();
  j["select"] = "SELECT * FROM v_exams";
  j["connection_string"] = "Driver=x;Server=y";
  auto r = parse(j);
  CHECK(r.problems.find("sources[1].select: give exactly one of view or select") != std::string::npos);
  CHECK(r.problems.find("sources[1].dsn: give either dsn or connection_string") != std::string::npos);
  j = good();
  j.erase("dsn");
  CHECK(parse(j).problems.find("sources[1].dsn: is required") != std::string::npos);
  j = good();
  j["view"] = "v_exams; DELETE FROM exams";
  CHECK(parse(j).problems.find("sources[1].view: must be a table or view name") != std::string::npos);
}

TEST_CASE("columns must include every mapped column") {
  auto j = good();
  j["columns"] = {"accession_no", "updated_at", "pat_id", "id"};
  auto r = parse(j);
  CHECK(r.problems.find("sources[1].map.fields.performed: column 'exam_time' is not in columns") != std::string::npos);
}

TEST_CASE("only a single read-only SELECT passes") {
  CHECK_FALSE(why_not_read_only("SELECT a, b FROM v WHERE note = 'delete me; now'").has_value());
  CHECK_FALSE(why_not_read_only("with x as (select 1 as a) select a from x;").has_value());
  CHECK_FALSE(why_not_read_only("SELECT \"update\", updated_at FROM v -- update later\n").has_value());
  CHECK(why_not_read_only("DELETE FROM exams").value().find("must start with SELECT") != std::string::npos);
  CHECK(why_not_read_only("UPDATE exams SET a = 1").has_value());
  CHECK(why_not_read_only("SELECT 1; DROP TABLE exams").value().find("single statement") != std::string::npos);
  CHECK(why_not_read_only("SELECT * INTO copy FROM exams").value().find("INTO") != std::string::npos);
  CHECK(why_not_read_only("SELECT * FROM exams FOR UPDATE").value().find("UPDATE") != std::string::npos);
  CHECK(why_not_read_only("WITH d AS (DELETE FROM exams RETURNING *) SELECT * FROM d").has_value());
  CHECK(why_not_read_only("SELECT 'unterminated").value().find("unterminated") != std::string::npos);
  CHECK(why_not_read_only("/* SELECT */ INSERT INTO x VALUES (1)").has_value());
  CHECK(why_not_read_only("  ").has_value());
}

TEST_CASE("a config select that writes is refused with its path") {
  auto j = good();
  j.erase("view");
  j["select"] = "SELECT 1; DELETE FROM exams";
  CHECK(parse(j).problems.find("sources[1].select: must be a single statement") != std::string::npos);
}

TEST_CASE("identifiers: schema-qualified and quoted names, never SQL") {
  CHECK(is_identifier("v_exams"));
  CHECK(is_identifier("ris.v_exams"));
  CHECK(is_identifier("\"RIS\".\"V Exams\""));
  CHECK(is_identifier("[dbo].[v_exam]"));
  CHECK(is_identifier("检查视图"));
  CHECK_FALSE(is_identifier(""));
  CHECK_FALSE(is_identifier("a b"));
  CHECK_FALSE(is_identifier("v; drop"));
  CHECK_FALSE(is_identifier("a.b.c.d"));
  CHECK_FALSE(is_identifier("1abc"));
}

TEST_CASE("poll SQL orders by (ts, key) and filters on the watermark") {
  auto r = parse(good());
  CHECK(poll_sql(r.cfg, true) ==
        "SELECT accession_no, updated_at, pat_id, exam_time, id FROM v_exams WHERE updated_at >= ? "
        "ORDER BY updated_at, id");
  CHECK(poll_sql(r.cfg, false) ==
        "SELECT accession_no, updated_at, pat_id, exam_time, id FROM v_exams WHERE updated_at IS NOT NULL "
        "ORDER BY updated_at, id");
  auto j = good();
  j.erase("view");
  j["select"] = "SELECT e.accession_no, e.updated_at, e.id, p.pat_id, e.exam_time FROM e JOIN p ON p.id = e.pid;";
  auto s = parse(j);
  CHECK(s.problems == "");
  CHECK(poll_sql(s.cfg, true) ==
        "SELECT * FROM (SELECT e.accession_no, e.updated_at, e.id, p.pat_id, e.exam_time FROM e JOIN p ON p.id = "
        "e.pid) lb_q WHERE updated_at >= ? ORDER BY updated_at, id");
  CHECK(probe_sql(r.cfg) == "SELECT * FROM v_exams WHERE 1 = 0");
  CHECK(probe_sql(s.cfg) ==
        "SELECT * FROM (SELECT e.accession_no, e.updated_at, e.id, p.pat_id, e.exam_time FROM e JOIN p ON p.id = "
        "e.pid) lb_probe WHERE 1 = 0");
}
