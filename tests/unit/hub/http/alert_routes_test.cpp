// Issue 4 (alerts): GET /api/v1/alerts and POST /api/v1/alerts/{id}/ack through Api::handle,
// with alerts raised by the real service from heartbeats posted through the API.
#include <doctest/doctest.h>

#include <chrono>

#include "common/clock/clock.hpp"
#include "common/hash/sha256.hpp"
#include "hub/alerts/service.hpp"
#include "hub/http/api.hpp"
#include "tests/unit/hub/http/api_fixture.hpp"

using namespace lightbox;
using namespace lightbox::hub;
using http::Request;
using http::Response;
using http::Route;

namespace {

const std::string kAgentTok = "lbt_alert_agent";
const std::string kOpsTok = "lbo_alert_ops";

struct Fixture : test::ApiFixture {
  alerts::AlertsConfig cfg;
  std::unique_ptr<alerts::AlertService> service;

  Fixture() {
    REQUIRE(repo->create_institution("h1", "H1").ok());
    REQUIRE(repo->put_agent("h1", "a1", hash::sha256_hex(kAgentTok)).ok());
    REQUIRE(repo->put_operator("ops-li", hash::sha256_hex(kOpsTok)).ok());
    api.set_fleet(fleet_repo.get(), &metrics);
    alerts::ChannelConfig hook;
    hook.name = "hook";
    hook.type = "webhook";
    hook.url = log::Secret("http://127.0.0.1:9/hook");
    cfg.channels.push_back(hook);
    service = alerts::AlertService::open(cfg, dir / "index.db", *fleet_repo, log).value();
  }

  void beat() {
    const std::string b = heartbeat_body(clock::now_ms()).dump();
    REQUIRE(call("POST", "/api/v1/heartbeats", kAgentTok, b).status == 200);
  }
};

}  // namespace

TEST_CASE("alert routing") {
  std::string p;
  CHECK(http::match_route("GET", "/api/v1/alerts", p) == Route::list_alerts);
  CHECK(http::match_route("POST", "/api/v1/alerts", p) == Route::method_not_allowed);
  CHECK(http::match_route("POST", "/api/v1/alerts/17/ack", p) == Route::ack_alert);
  CHECK(p == "17");
  CHECK(http::match_route("GET", "/api/v1/alerts/17/ack", p) == Route::method_not_allowed);
  CHECK(http::match_route("POST", "/api/v1/alerts/17", p) == Route::not_found);
  CHECK(http::match_route("POST", "/api/v1/alerts/1/7/ack", p) == Route::not_found);
}

TEST_CASE("alerts API: without alerting configured it answers 404") {
  Fixture f;
  auto r = f.call("GET", "/api/v1/alerts", kOpsTok);
  CHECK(r.status == 404);
  CHECK(test::json_of(r)["error"] == "not_found");
}

TEST_CASE("alerts API: ops lists and acks, agents are refused") {
  Fixture f;
  f.api.set_alerts(f.service.get());
  f.beat();
  auto listed = f.call("GET", "/api/v1/alerts", kOpsTok);
  REQUIRE(listed.status == 200);
  CHECK(test::json_of(listed)["active"].empty());

  // 100 s of silence: offline (three 30 s intervals).
  auto changes = f.service->evaluate_once(clock::now_ms() + 100000);
  REQUIRE(changes.ok());
  REQUIRE(changes->size() == 1);

  listed = f.call("GET", "/api/v1/alerts?state=all&limit=5", kOpsTok);
  REQUIRE(listed.status == 200);
  auto j = test::json_of(listed);
  REQUIRE(j["active"].size() == 1);
  CHECK(j["history"].empty());
  auto a = j["active"][0];
  CHECK(a["rule"] == "agent_offline");
  CHECK(a["severity"] == "critical");
  CHECK(a["institution"] == "h1");
  CHECK(a["agent"] == "a1");
  CHECK(a["subject"] == "");
  CHECK(a["state"] == "firing");
  CHECK(a["notifications"] == 1);
  CHECK(a["flaps"] == 0);
  CHECK(a["acked_at"].is_null());
  CHECK(a["acked_by"].is_null());
  CHECK(a["resolved_at"].is_null());
  CHECK(a["first_fired_at"].is_string());
  CHECK(a["last_notified_at"].is_string());
  const std::string id = std::to_string(a["id"].get<std::int64_t>());

  // Agents get 403, on both routes.
  CHECK(f.call("GET", "/api/v1/alerts", kAgentTok).status == 403);
  CHECK(f.call("POST", "/api/v1/alerts/" + id + "/ack", kAgentTok).status == 403);
  CHECK(f.call("GET", "/api/v1/alerts", "").status == 401);

  auto acked =
      f.call("POST", "/api/v1/alerts/" + id + "/ack", kOpsTok, R"({"note":"电话已通知 called the site"})");
  REQUIRE(acked.status == 200);
  CHECK(test::json_of(acked)["acked_by"] == "ops-li");
  CHECK(test::json_of(acked)["ack_note"] == "电话已通知 called the site");
  CHECK(test::json_of(acked)["acked_at"].is_string());
  // An empty body is fine too.
  CHECK(f.call("POST", "/api/v1/alerts/" + id + "/ack", kOpsTok).status == 200);

  CHECK(f.call("POST", "/api/v1/alerts/999/ack", kOpsTok).status == 404);
  CHECK(f.call("POST", "/api/v1/alerts/abc/ack", kOpsTok).status == 404);
  auto bad = f.call("POST", "/api/v1/alerts/" + id + "/ack", kOpsTok, R"({"note": 5})");
  CHECK(bad.status == 400);
  CHECK(test::json_of(bad)["field"] == "note");
  CHECK(f.call("POST", "/api/v1/alerts/" + id + "/ack", kOpsTok, "not json").status == 400);
  auto state = f.call("GET", "/api/v1/alerts?state=open", kOpsTok);
  CHECK(state.status == 400);
  CHECK(test::json_of(state)["field"] == "state");
  CHECK(f.call("GET", "/api/v1/alerts?limit=0", kOpsTok).status == 400);

  // The agent beats again: resolved, moves to history.
  f.beat();
  REQUIRE(f.service->evaluate_once(clock::now_ms() + 1000).ok());
  j = test::json_of(f.call("GET", "/api/v1/alerts?state=all", kOpsTok));
  CHECK(j["active"].empty());
  REQUIRE(j["history"].size() == 1);
  CHECK(j["history"][0]["state"] == "resolved");
  CHECK(j["history"][0]["resolved_at"].is_string());
  CHECK(test::json_of(f.call("GET", "/api/v1/alerts", kOpsTok))["history"].empty());

  // /metrics carries the delivery counters (nothing delivered: no worker runs in this test).
  auto m = f.call("GET", "/metrics", "");
  REQUIRE(m.status == 200);
  CHECK(m.body.find("lightbox_hub_alert_deliveries_total{channel=\"hook\",result=\"sent\"} 0") !=
        std::string::npos);
  CHECK(m.body.find("lightbox_hub_alerts_firing{severity=\"critical\"} 0") != std::string::npos);
  // Two notifications (firing, resolved) wait in the outbox for the webhook.
  auto counts = f.service->store().outbox_counts().value();
  REQUIRE(counts.size() == 1);
  CHECK(counts[0].channel == "hook");
  CHECK(counts[0].count == 2);
}
