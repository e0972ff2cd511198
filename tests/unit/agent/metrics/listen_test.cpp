#include <doctest/doctest.h>

#include "agent/app/config.hpp"
#include "agent/metrics/listen.hpp"

using namespace lightbox;
using namespace lightbox::agent;

TEST_CASE("parse_listen: loopback addresses only") {
  auto a = metrics::parse_listen("127.0.0.1:9464");
  REQUIRE(a.ok());
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 9464);
  auto b = metrics::parse_listen("[::1]:0");
  REQUIRE(b.ok());
  CHECK(b->host == "::1");
  CHECK(b->port == 0);
  CHECK(metrics::parse_listen("localhost:9464").ok());
  CHECK(metrics::parse_listen("127.0.0.2:9464").ok());
  CHECK_FALSE(metrics::parse_listen("0.0.0.0:9464").ok());
  CHECK_FALSE(metrics::parse_listen("10.1.2.3:9464").ok());
  CHECK_FALSE(metrics::parse_listen("[::]:9464").ok());
  CHECK_FALSE(metrics::parse_listen("example.org:9464").ok());
  CHECK_FALSE(metrics::parse_listen("127.0.0.1").ok());
  CHECK_FALSE(metrics::parse_listen("127.0.0.1:").ok());
  CHECK_FALSE(metrics::parse_listen("127.0.0.1:65536").ok());
  CHECK_FALSE(metrics::parse_listen("127.0.0.1:-1").ok());
  CHECK(metrics::parse_listen("0.0.0.0:9464").error().message.find("loopback") != std::string::npos);
}

namespace {

app::AgentConfig parse(const std::string& extra, config::Problems& p) {
  std::string text =
      R"({"agent": {"id": "a", "data_dir": "/d"}, "hub": {"url": "https://127.0.0.1:8443", "token": "t"},
    "sources": [{"name": "ct", "kind": "folder", "path": "/data/ct"}])" +
      extra + "}";
  auto j = config::load_text(text, p);
  REQUIRE(j.ok());
  return app::parse_config(*j, p);
}

}  // namespace

TEST_CASE("config metrics.listen: absent = off, loopback accepted, anything else names the key") {
  config::Problems p;
  CHECK(parse("", p).metrics.listen.empty());
  CHECK(p.empty());
  CHECK(parse(R"(, "metrics": {"listen": "127.0.0.1:9464"})", p).metrics.listen == "127.0.0.1:9464");
  CHECK(p.empty());
  config::Problems bad;
  parse(R"(, "metrics": {"listen": "0.0.0.0:9464"})", bad);
  REQUIRE_FALSE(bad.empty());
  CHECK(bad.list()[0].field == "metrics.listen");
  config::Problems unknown;
  parse(R"(, "metrics": {"port": 9464})", unknown);
  REQUIRE_FALSE(unknown.empty());
  CHECK(unknown.to_string().find("metrics.port") != std::string::npos);
}
