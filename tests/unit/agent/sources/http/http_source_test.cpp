#include "agent/sources/http/http_source.hpp"

#include <doctest/doctest.h>

#include "tests/unit/agent/sources/config_problems.hpp"

using namespace lightbox;
using namespace lightbox::agent::sources;
using namespace lightbox::agent::sources::http;

namespace {

std::string problems_of(const std::string& text, HttpConfig* out = nullptr) {
  HttpConfig base;
  base.name = "web";
  return test::config_problems(
      text, base, [](config::Node& n, const HttpConfig& b) { return parse_http_config(n, b); }, out);
}

}  // namespace

TEST_CASE("http config: listing with basic auth, or urls with a bearer token") {
  HttpConfig c;
  CHECK(problems_of(R"({"sources": [{"name": "w", "kind": "http", "listing_url": "https://h/export/",
      "username": "u", "password": "p", "ca_file": "/ca.pem", "recursive": false, "stable_seconds": 1,
      "include": ["*.dcm"], "exclude": ["*.tmp"], "after_upload": "delete", "timeout_seconds": 60}]})",
                    &c) == "");
  CHECK(c.listing_url == "https://h/export/");
  CHECK(c.password.reveal() == "p");
  CHECK(c.delete_after_upload);
  CHECK_FALSE(c.recursive);
  CHECK(problems_of(R"({"sources": [{"name": "w", "kind": "http", "urls": ["http://h/a.dcm"], "token": "t"}]})", &c) == "");
  CHECK(c.token.reveal() == "t");
  CHECK(c.urls.size() == 1);
}

TEST_CASE("http config errors name the full key path") {
  auto p = problems_of(R"({"sources": [{"name": "w", "kind": "http"}]})");
  CHECK(p.find("sources[0].listing_url: set exactly one of") != std::string::npos);
  p = problems_of(R"({"sources": [{"name": "w", "kind": "http", "listing_url": "https://h/", "urls": ["https://h/a"]}]})");
  CHECK(p.find("sources[0].urls: set exactly one of") != std::string::npos);
  p = problems_of(R"({"sources": [{"name": "w", "kind": "http", "listing_url": "ftp://h/"}]})");
  CHECK(p.find("sources[0].listing_url: must start with http:// or https://") != std::string::npos);
  p = problems_of(R"({"sources": [{"name": "w", "kind": "http", "urls": ["https://h/a", "h/b"]}]})");
  CHECK(p.find("sources[0].urls: [1] must start with") != std::string::npos);
  p = problems_of(R"({"sources": [{"name": "w", "kind": "http", "urls": ["https://h/a"], "token": "t", "username": "u"}]})");
  CHECK(p.find("sources[0].token") != std::string::npos);
  p = problems_of(R"({"sources": [{"name": "w", "kind": "http", "urls": ["https://h/a"], "after_upload": "move"}]})");
  CHECK(p.find("sources[0].after_upload") != std::string::npos);
  p = problems_of(R"({"sources": [{"name": "w", "kind": "http", "urls": ["https://h/a"], "password": "p"}]})");
  CHECK(p.find("sources[0].username: is required with a password") != std::string::npos);
}

TEST_CASE("conditional requests: what was collected decides the headers") {
  CHECK(conditional_for(std::nullopt).if_none_match.empty());
  auto c = conditional_for(Validators{"\"e1\"", "Sat, 28 Nov 2026 01:30:00 GMT"});
  CHECK(c.if_none_match == "\"e1\"");
  CHECK(c.if_modified_since == "Sat, 28 Nov 2026 01:30:00 GMT");

  ListingEntry e;
  e.url = "http://h/a.dcm";
  e.rel_path = "a.dcm";
  // Never collected: an unconditional GET, whatever validators linger.
  Validators v{"\"e1\"", "Sat, 28 Nov 2026 01:30:00 GMT"};
  auto p = plan_fetch(e, nullptr, &v);
  CHECK_FALSE(p.skip);
  CHECK(p.conditional.if_none_match.empty());

  // Collected before, the listing has no size/time/etag: ask the server (conditional GET).
  SeenEntry seen{12, 1795829400LL * 1'000'000'000, "ab"};
  p = plan_fetch(e, &seen, &v);
  CHECK_FALSE(p.skip);
  CHECK(p.conditional.if_none_match == "\"e1\"");

  // The listing shows the same size and mtime: no request at all.
  e.size = 12;
  e.mtime_s = 1795829400;
  CHECK(plan_fetch(e, &seen, &v).skip);
  // Size changed: fetch, conditionally.
  e.size = 13;
  CHECK_FALSE(plan_fetch(e, &seen, &v).skip);
  // The listing's ETag equals the stored one: skip.
  e.etag = "\"e1\"";
  CHECK(plan_fetch(e, &seen, &v).skip);
  e.etag = "\"e2\"";
  CHECK_FALSE(plan_fetch(e, &seen, &v).skip);
  // Collected from a server that sent no validators: plain GET.
  p = plan_fetch(e, &seen, nullptr);
  CHECK_FALSE(p.skip);
  CHECK(p.conditional.if_none_match.empty());
  CHECK(p.conditional.if_modified_since.empty());
}
