#include <doctest/doctest.h>

#include "hub/fleet/heartbeat.hpp"

using namespace lightbox;
using namespace lightbox::hub;

namespace {

nlohmann::json body(std::int64_t backlog = 0) {
  return {{"version", "1.0"},
          {"interval_seconds", 10},
          {"uptime_s", 5},
          {"clock_ms", 1'000'000},
          {"queue", {{"verified", 1}}},
          {"backlog_bytes", backlog},
          {"uploaded", {{"items", 0}, {"bytes", 0}}},
          {"errors", nlohmann::json::object()},
          {"sources", {{{"name", "ct"}, {"last_error", nullptr}}}},
          {"spool", {{"total_bytes", 1000}, {"free_bytes", 500}, {"disk_full", false}}}};
}

fleet::Beat beat(const nlohmann::json& j, std::int64_t received_ms) {
  auto b = fleet::parse_heartbeat(j);
  REQUIRE(b.ok());
  b->received_ms = received_ms;
  return *b;
}

}  // namespace

TEST_CASE("heartbeat validation names the field") {
  CHECK(fleet::parse_heartbeat(body()).ok());
  auto check_field = [](nlohmann::json j, const std::string& field) {
    auto r = fleet::parse_heartbeat(j);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::invalid_argument);
    CHECK(r.error().field == field);
  };
  auto j = body();
  j.erase("version");
  check_field(j, "version");
  j = body();
  j["interval_seconds"] = 0;
  check_field(j, "interval_seconds");
  j = body();
  j["spool"]["free_bytes"] = "lots";
  check_field(j, "spool.free_bytes");
  j = body();
  j["errors"]["timeout"] = -1;
  check_field(j, "errors.timeout");
  j = body();
  j["sources"][0].erase("name");
  check_field(j, "sources[0].name");
  check_field(nlohmann::json::array(), "body");
}

TEST_CASE("health: offline after 3 intervals without a beat, or never seen") {
  CHECK(fleet::assess({}, 0).status == fleet::Health::offline);
  auto b = beat(body(), 100'000);
  CHECK(fleet::assess({b}, 100'000 + 30'000).status == fleet::Health::healthy);  // exactly 3 x 10 s
  CHECK(fleet::assess({b}, 100'000 + 30'001).status == fleet::Health::offline);
}

TEST_CASE("health: degraded on a source error, disk full or low, errors, growing backlog") {
  const std::int64_t t = 100'000;
  CHECK(fleet::assess({beat(body(), t)}, t).status == fleet::Health::healthy);

  auto j = body();
  j["sources"][0]["last_error"] = "folder missing";
  auto a = fleet::assess({beat(j, t)}, t);
  CHECK(a.status == fleet::Health::degraded);
  REQUIRE(a.reasons.size() == 1);
  CHECK(a.reasons[0].find("folder missing") != std::string::npos);

  j = body();
  j["spool"]["disk_full"] = true;
  CHECK(fleet::assess({beat(j, t)}, t).status == fleet::Health::degraded);
  j = body();
  j["spool"]["free_bytes"] = 99;  // < 10 % of 1000
  CHECK(fleet::assess({beat(j, t)}, t).status == fleet::Health::degraded);
  j = body();
  j["spool"]["free_bytes"] = 100;  // exactly 10 %
  CHECK(fleet::assess({beat(j, t)}, t).status == fleet::Health::healthy);
  j = body();
  j["errors"]["unavailable"] = 2;
  CHECK(fleet::assess({beat(j, t)}, t).status == fleet::Health::degraded);

  // Newest first: growing over the last 3 beats degrades; flat or shrinking does not.
  CHECK(fleet::assess({beat(body(300), t), beat(body(200), t - 10'000), beat(body(100), t - 20'000)}, t)
            .status == fleet::Health::degraded);
  CHECK(fleet::assess({beat(body(300), t), beat(body(300), t - 10'000), beat(body(100), t - 20'000)}, t)
            .status == fleet::Health::healthy);
  CHECK(fleet::assess({beat(body(300), t), beat(body(200), t - 10'000)}, t).status == fleet::Health::healthy);
}

TEST_CASE("clock offset is hub receive time minus the agent clock") {
  auto b = beat(body(), 1'002'500);  // agent clock 1'000'000
  CHECK(b.clock_offset_s() == doctest::Approx(2.5));
}
