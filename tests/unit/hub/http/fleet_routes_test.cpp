#include <doctest/doctest.h>

#include <chrono>

#include "common/clock/clock.hpp"
#include "common/hash/sha256.hpp"
#include "hub/http/api.hpp"
#include "tests/unit/hub/http/api_fixture.hpp"

using namespace lightbox;
using namespace lightbox::hub;
using http::Request;
using http::Response;
using http::Route;

namespace {

const std::string kToken1 = "lbt_token_one";
const std::string kToken2 = "lbt_token_two";

struct Fixture : test::ApiFixture {

  Fixture() {
    REQUIRE(repo->create_institution("h1", "H1").ok());
    REQUIRE(repo->create_institution("h2", "H2").ok());
    REQUIRE(repo->put_agent("h1", "a1", hash::sha256_hex(kToken1)).ok());
    REQUIRE(repo->put_agent("h1", "a2", hash::sha256_hex("lbt_token_a2")).ok());
    REQUIRE(repo->put_agent("h2", "b1", hash::sha256_hex(kToken2)).ok());
    api.set_fleet(fleet_repo.get(), &metrics);
  }

  static Request req(std::string method, std::string target, const std::string& token = kToken1) {
    return ApiFixture::req(std::move(method), std::move(target), token);
  }
  Response beat(const nlohmann::json& body, const std::string& token = kToken1) {
    auto r = req("POST", "/api/v1/heartbeats", token);
    std::string text = body.dump();
    r.content_length = text.size();
    return api.handle(r, text, 5);
  }
};

nlohmann::json body() {
  return {{"version", "1.0"},
          {"interval_seconds", 30},
          {"uptime_s", 5},
          {"clock_ms", clock::now_ms() - 2000},
          {"queue", {{"verified", 1}, {"done", 4}}},
          {"backlog_bytes", 123},
          {"uploaded", {{"items", 4}, {"bytes", 400}}},
          {"errors", nlohmann::json::object()},
          {"sources", {{{"name", "ct"}, {"last_error", nullptr}}}},
          {"spool", {{"total_bytes", 1000}, {"free_bytes", 500}, {"disk_full", false}}}};
}

}  // namespace

TEST_CASE("fleet routing") {
  std::string p;
  CHECK(http::match_route("POST", "/api/v1/heartbeats", p) == Route::post_heartbeat);
  CHECK(http::match_route("GET", "/api/v1/heartbeats", p) == Route::method_not_allowed);
  CHECK(http::match_route("GET", "/api/v1/agents", p) == Route::list_agents);
  CHECK(http::match_route("GET", "/api/v1/agents/a%201", p) == Route::get_agent);
  CHECK(p == "a 1");
  CHECK(http::match_route("GET", "/api/v1/agents/a/b", p) == Route::not_found);
  CHECK(http::match_route("GET", "/metrics", p) == Route::metrics);
}

TEST_CASE("a heartbeat is stored under the credential's agent and listed with its health") {
  Fixture f;
  auto r = f.beat(body());
  REQUIRE(r.status == 200);
  CHECK(test::json_of(r)["agent"] == "a1");
  CHECK(test::json_of(r)["clock_offset_s"].get<double>() >= 1.5);

  auto list = f.api.handle(Fixture::req("GET", "/api/v1/agents"));
  REQUIRE(list.status == 200);
  auto agents = test::json_of(list)["agents"];
  REQUIRE(agents.size() == 2);  // a1 and a2 of h1; never b1 of h2
  CHECK(agents[0]["agent"] == "a1");
  CHECK(agents[0]["status"] == "healthy");
  CHECK(agents[0]["backlog_bytes"] == 123);
  CHECK(agents[0]["spool_free_bytes"] == 500);
  CHECK(agents[0]["queue"]["verified"] == 1);
  CHECK(agents[1]["agent"] == "a2");
  CHECK(agents[1]["status"] == "offline");
  CHECK(agents[1]["last_seen"].is_null());

  auto one = f.api.handle(Fixture::req("GET", "/api/v1/agents/a1"));
  REQUIRE(one.status == 200);
  auto j = test::json_of(one);
  CHECK(j["latest"]["version"] == "1.0");
  CHECK(j["last_24h"]["beats"] == 1);
  CHECK(j["last_24h"]["uploaded_items"] == 4);

  // Another institution's agent is not visible.
  CHECK(f.api.handle(Fixture::req("GET", "/api/v1/agents/a1", kToken2)).status == 404);
}

TEST_CASE("a source error degrades the agent") {
  Fixture f;
  auto b = body();
  b["sources"][0]["last_error"] = "not_found: folder /x does not exist";
  REQUIRE(f.beat(b).status == 200);
  auto agents = test::json_of(f.api.handle(Fixture::req("GET", "/api/v1/agents")))["agents"];
  CHECK(agents[0]["status"] == "degraded");
  CHECK(agents[0]["reasons"][0].get<std::string>().find("folder /x") != std::string::npos);
}

TEST_CASE("bad heartbeats are 400 naming the field; no credential is 401") {
  Fixture f;
  auto b = body();
  b["spool"].erase("disk_full");
  auto r = f.beat(b);
  CHECK(r.status == 400);
  CHECK(test::json_of(r)["field"] == "spool.disk_full");
  auto r2 = f.api.handle(Fixture::req("POST", "/api/v1/heartbeats"), "{not json");
  CHECK(r2.status == 400);
  CHECK(test::json_of(r2)["field"] == "body");
  CHECK(f.beat(body(), "").status == 401);
  CHECK(f.api.handle(Fixture::req("GET", "/api/v1/agents", "")).status == 401);
}

TEST_CASE("/metrics is Prometheus text without a credential, aggregate only") {
  Fixture f;
  REQUIRE(f.beat(body()).status == 200);
  (void)f.api.handle(Fixture::req("GET", "/api/v1/agents", ""));  // a 401
  auto m = f.api.handle(Fixture::req("GET", "/metrics", ""));
  REQUIRE(m.status == 200);
  CHECK(m.content_type.rfind("text/plain", 0) == 0);
  CHECK(m.body.find("lightbox_hub_requests_total{code=\"2xx\"} 1\n") != std::string::npos);
  CHECK(m.body.find("lightbox_hub_requests_total{code=\"4xx\"} 1\n") != std::string::npos);
  CHECK(m.body.find("lightbox_hub_agents{status=\"healthy\"} 1\n") != std::string::npos);
  CHECK(m.body.find("lightbox_hub_agents{status=\"offline\"} 2\n") != std::string::npos);
  CHECK(m.body.find("lightbox_hub_objects_stored 0\n") != std::string::npos);
  CHECK(m.body.find("a1") == std::string::npos);  // no agent names
}
