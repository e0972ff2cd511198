#include "agent/sources/ftp/ftp_source.hpp"

#include <doctest/doctest.h>

#include "agent/sources/ftp/stability.hpp"
#include "tests/unit/agent/sources/config_problems.hpp"

using namespace lightbox;
using namespace lightbox::agent::sources;
using namespace lightbox::agent::sources::ftp;

namespace {

// Parses sources[0] of `text` as an ftp source; returns every problem as "path: message" lines.
std::string problems_of(const std::string& text, FtpConfig* out = nullptr) {
  FtpConfig base;
  base.name = "ftp";
  return test::config_problems(
      text, base, [](config::Node& n, const FtpConfig& b) { return parse_ftp_config(n, b); }, out);
}

}  // namespace

TEST_CASE("ftp url: host, port, login-relative or absolute path") {
  FtpConfig c;
  CHECK(parse_ftp_url("ftp://127.0.0.1:2121/outbox", c).empty());
  CHECK(c.host == "127.0.0.1");
  CHECK(c.port == 2121);
  CHECK(c.root == "outbox");
  FtpConfig a;
  CHECK(parse_ftp_url("ftp://pacs.local//data/out%20box", a).empty());
  CHECK(a.port == 21);
  CHECK(a.root == "/data/out box");
  FtpConfig b;
  CHECK(parse_ftp_url("ftp://pacs.local/%2Fdata", b).empty());
  CHECK(b.root == "/data");
  FtpConfig i;
  CHECK(parse_ftp_url("ftps://pacs.local", i).empty());
  CHECK(i.tls == http::FtpTls::implicit);
  CHECK(i.port == 990);
  FtpConfig bad;
  CHECK_FALSE(parse_ftp_url("sftp://x/", bad).empty());
  CHECK_FALSE(parse_ftp_url("ftp://user:pw@x/", bad).empty());
  CHECK_FALSE(parse_ftp_url("ftp://x:99999/", bad).empty());
  CHECK_FALSE(parse_ftp_url("ftp:///path", bad).empty());
}

TEST_CASE("server paths resolve against the login directory") {
  CHECK(resolve_server_path("/home/edge", "outbox") == "/home/edge/outbox");
  CHECK(resolve_server_path("/home/edge", "outbox/") == "/home/edge/outbox");
  CHECK(resolve_server_path("/home/edge", "") == "/home/edge");
  CHECK(resolve_server_path("/home/edge", "/data/x") == "/data/x");
  CHECK(resolve_server_path("/", "outbox") == "/outbox");
}

TEST_CASE("ftp config: a complete source reads cleanly") {
  FtpConfig c;
  auto p = problems_of(R"({"sources": [{"name": "ftp", "kind": "ftp", "url": "ftp://h:2121/out", "tls": "explicit",
      "ca_file": "/ca.pem", "username": "edge", "password": "pw", "passive": false, "recursive": false,
      "stable_seconds": 3, "include": ["*.dcm"], "exclude": ["*.tmp"], "after_upload": "move", "move_to": "sent"}]})",
                       &c);
  CHECK(p == "");
  CHECK(c.tls == http::FtpTls::explicit_);
  CHECK(c.password.reveal() == "pw");
  CHECK_FALSE(c.passive);
  CHECK_FALSE(c.recursive);
  CHECK(c.after_upload == AfterUpload::move);
  CHECK(c.move_to == "sent");
}

TEST_CASE("ftp config errors name the full key path") {
  auto p = problems_of(R"({"sources": [{"name": "f", "kind": "ftp", "url": "http://h/", "username": "u"}]})");
  CHECK(p.find("sources[0].url: must start with ftp://") != std::string::npos);
  p = problems_of(R"({"sources": [{"name": "f", "kind": "ftp", "url": "ftp://h/"}]})");
  CHECK(p.find("sources[0].username") != std::string::npos);
  p = problems_of(R"({"sources": [{"name": "f", "kind": "ftp", "url": "ftp://h/", "username": "u", "tls": "yes"}]})");
  CHECK(p.find("sources[0].tls") != std::string::npos);
  p = problems_of(R"({"sources": [{"name": "f", "kind": "ftp", "url": "ftp://h/", "username": "u", "after_upload": "move"}]})");
  CHECK(p.find("sources[0].move_to: is required") != std::string::npos);
  p = problems_of(R"({"sources": [{"name": "f", "kind": "ftp", "url": "ftp://h/", "username": "u", "ca_file": "/x"}]})");
  CHECK(p.find("sources[0].ca_file") != std::string::npos);
  p = problems_of(R"({"sources": [{"name": "f", "kind": "ftp", "url": "ftp://h/", "username": "u", "stable_seconds": 0}]})");
  CHECK(p.find("sources[0].stable_seconds") != std::string::npos);
  p = problems_of(R"({"sources": [{"name": "f", "kind": "ftp", "url": "ftp://h/", "username": "u", "pasive": true}]})");
  CHECK(p.find("sources[0].pasive") != std::string::npos);
}

TEST_CASE("stability: unchanged size and one-second mtime for stable_seconds on the agent's clock") {
  StabilityTracker t(2000);
  std::int64_t now = 1'000;
  CHECK_FALSE(t.observe("a", 10, 100, now));
  t.end_scan();
  CHECK(t.size() == 1);
  now += 1'000;
  CHECK_FALSE(t.observe("a", 10, 100, now));  // 1 s: not yet
  t.end_scan();
  now += 1'000;
  CHECK(t.observe("a", 10, 100, now));  // 2 s unchanged: stable
  t.end_scan();

  // Growing file: every size change starts the clock again, even within the same mtime second.
  CHECK_FALSE(t.observe("b", 1, 200, now));
  t.end_scan();
  now += 5'000;
  CHECK_FALSE(t.observe("b", 2, 200, now));
  t.end_scan();
  now += 1'000;
  CHECK_FALSE(t.observe("b", 2, 200, now));
  t.end_scan();
  now += 1'000;
  CHECK(t.observe("b", 2, 200, now));
  // A touched file (same size, new second) starts again too.
  t.end_scan();
  CHECK_FALSE(t.observe("b", 2, 201, now + 10'000));
  t.end_scan();

  // Changed while downloading: restart keeps it pending for another window. ("a" was not
  // listed by the scans above, so it is new again.)
  CHECK_FALSE(t.observe("a", 10, 100, now + 7'000));
  t.end_scan();
  CHECK(t.observe("a", 10, 100, now + 10'000));
  t.restart("a", now + 10'000);
  t.end_scan();
  CHECK_FALSE(t.observe("a", 10, 100, now + 11'000));
  t.end_scan();

  // Files no longer listed are forgotten; collected ones too.
  CHECK(t.size() == 1);
  CHECK_FALSE(t.observe("c", 1, 1, now));
  t.forget("c");
  t.end_scan();
  CHECK(t.size() == 0);
}
