#include <doctest/doctest.h>

#include "agent/app/config.hpp"

using namespace lightbox;
using namespace lightbox::agent;

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

TEST_CASE("report.heartbeat_seconds: default 30, not explicit") {
  config::Problems p;
  auto cfg = parse("", p);
  CHECK(p.empty());
  CHECK(cfg.report.heartbeat_seconds == 30);
  CHECK_FALSE(cfg.report.heartbeat_explicit);
}

TEST_CASE("report.heartbeat_seconds: read, 0 disables, bad values name the full path") {
  config::Problems p;
  auto cfg = parse(R"(, "report": {"heartbeat_seconds": 1})", p);
  CHECK(p.empty());
  CHECK(cfg.report.heartbeat_seconds == 1);
  CHECK(cfg.report.heartbeat_explicit);

  config::Problems p0;
  CHECK(parse(R"(, "report": {"heartbeat_seconds": 0})", p0).report.heartbeat_seconds == 0);
  CHECK(p0.empty());

  config::Problems bad;
  parse(R"(, "report": {"heartbeat_seconds": -1, "nope": 2})", bad);
  bool range = false, unknown = false;
  for (const auto& e : bad.list()) {
    range = range || e.field == "report.heartbeat_seconds";
    unknown = unknown || e.field == "report.nope";
  }
  CHECK(range);
  CHECK(unknown);
}
