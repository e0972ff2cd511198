#include "agent/sources/http/http_listing.hpp"

#include <doctest/doctest.h>

using namespace lightbox::agent::sources::http;

TEST_CASE("nginx autoindex_format json") {
  const char* text = R"([
    {"name":"img 0.dcm","type":"file","mtime":"Sat, 28 Nov 2026 01:30:00 GMT","size":525510},
    {"name":"ct","type":"directory","mtime":"Sat, 28 Nov 2026 01:29:00 GMT"},
    {"name":"sock","type":"other","mtime":"Sat, 28 Nov 2026 01:29:00 GMT"}
  ])";
  auto r = parse_listing_json(text, "https://pacs:8443/export/");
  REQUIRE(r);
  REQUIRE(r->size() == 2);
  const auto& f = (*r)[0];
  CHECK(f.url == "https://pacs:8443/export/img%200.dcm");
  CHECK(f.rel_path == "img 0.dcm");
  CHECK_FALSE(f.is_dir);
  CHECK(f.size == 525510u);
  CHECK(f.mtime_s == 1795829400);
  const auto& d = (*r)[1];
  CHECK(d.is_dir);
  CHECK(d.url == "https://pacs:8443/export/ct/");
  CHECK(d.rel_path == "ct");

  // A sub-listing keeps its folder in front of the names.
  auto sub = parse_listing_json(R"([{"name":"a.dcm","type":"file","size":1,"mtime":"Sat, 28 Nov 2026 01:30:00 GMT"}])",
                                "https://pacs:8443/export/ct/", "ct/");
  REQUIRE(sub);
  CHECK((*sub)[0].rel_path == "ct/a.dcm");
  CHECK((*sub)[0].url == "https://pacs:8443/export/ct/a.dcm");
}

TEST_CASE("Lightbox listing: absolute, host-relative and relative URLs; optional keys") {
  const char* text = R"({"files": [
    {"url": "https://other:9000/x/a.dcm", "name": "ct/a.dcm", "size": 12, "mtime": "2026-11-28T01:30:00Z", "etag": "\"e1\""},
    {"url": "/exports/b.pdf"},
    {"url": "c%20d.dcm", "mtime": 1795829400},
    {"name": "only-name.dcm"}
  ]})";
  auto r = parse_listing_json(text, "http://pacs/exports/list.json");
  REQUIRE(r);
  REQUIRE(r->size() == 4);
  CHECK((*r)[0].url == "https://other:9000/x/a.dcm");
  CHECK((*r)[0].rel_path == "ct/a.dcm");
  CHECK((*r)[0].etag == "\"e1\"");
  CHECK((*r)[0].mtime_s == 1795829400);
  CHECK((*r)[0].size == 12u);
  CHECK((*r)[1].url == "http://pacs/exports/b.pdf");
  CHECK((*r)[1].rel_path == "b.pdf");  // below the listing's folder: named relative to it
  CHECK_FALSE((*r)[1].size);
  CHECK((*r)[2].url == "http://pacs/exports/c%20d.dcm");
  CHECK((*r)[2].rel_path == "c d.dcm");
  CHECK((*r)[2].mtime_s == 1795829400);
  CHECK((*r)[3].url == "http://pacs/exports/only-name.dcm");
}

TEST_CASE("unsafe names are skipped; other shapes are errors in plain words") {
  auto r = parse_listing_json(R"([{"name":"../etc/passwd","type":"file"},{"name":"ok.dcm","type":"file"},
                                  {"url":"x.dcm","name":"/abs.dcm"},{"name":"a/./b","type":"file"},42])",
                              "http://h/l/");
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  CHECK((*r)[0].rel_path == "ok.dcm");
  auto bad = parse_listing_json("<html>", "http://h/l/");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "the listing at http://h/l/ is not JSON");
  auto shape = parse_listing_json(R"({"items": []})", "http://h/l/");
  REQUIRE_FALSE(shape);
  CHECK(shape.error().message.find("neither a JSON array") != std::string::npos);
}

TEST_CASE("urls and dates") {
  CHECK(resolve_url("http://h:1/a/b/list", "c") == "http://h:1/a/b/c");
  CHECK(resolve_url("http://h:1/a/b/", "/z") == "http://h:1/z");
  CHECK(resolve_url("http://h:1/a/", "https://o/p") == "https://o/p");
  CHECK(url_rel_path("https://h/a%20b/c?x=1") == "a b/c");
  CHECK(url_rel_path("https://h") == "");
  CHECK(parse_listing_time("Sat, 28 Nov 2026 01:30:00 GMT") == 1795829400);
  CHECK(parse_listing_time("2026-11-28T01:30:00Z") == 1795829400);
  CHECK(parse_listing_time("1795829400") == 1795829400);
  CHECK_FALSE(parse_listing_time("yesterday"));
  CHECK_FALSE(parse_listing_time(""));
}
