// Issue 4 (dashboard, ops role): the dashboard routes through Api::handle, no sockets.
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

const std::string kAgentTok = "lbt_dash_agent";
const std::string kOtherTok = "lbt_dash_other";
const std::string kOpsTok = "lbo_dash_ops";

struct Fixture : test::ApiFixture {
  std::unique_ptr<dashboard::StatsRepository> stats =
      dashboard::StatsRepository::open(dir / "index.db").value();

  Fixture() {
    REQUIRE(repo->create_institution("h1", "Hospital One").ok());
    REQUIRE(repo->create_institution("h2", "Hospital Two").ok());
    REQUIRE(repo->put_agent("h1", "a1", hash::sha256_hex(kAgentTok)).ok());
    REQUIRE(repo->put_agent("h2", "b1", hash::sha256_hex(kOtherTok)).ok());
    REQUIRE(repo->put_operator("ops-zhang", hash::sha256_hex(kOpsTok)).ok());
    api.set_fleet(fleet_repo.get(), &metrics);
    api.set_dashboard(stats.get());
  }
  Response get(const std::string& target, const std::string& token = kOpsTok) {
    return api.handle(req("GET", target, token));
  }
  Response put(const std::string& body, const std::string& token) {
    auto r = req("PUT", "/api/v1/objects/" + hash::sha256_hex(body), token);
    r.headers.emplace_back("X-Lightbox-Kind", "attachment");
    r.content_length = body.size();
    return api.handle(r, body, 4);
  }
  Response beat(const std::string& token, std::int64_t items) {
    auto b = heartbeat_body(clock::now_ms());
    b["queue"] = {{"done", 4}};
    b["backlog_bytes"] = 10;
    b["oldest_pending_age_seconds"] = 3;
    b["uploaded"] = {{"items", items}, {"bytes", items * 10}};
    b["sources"] = {{{"name", "ct"}, {"last_error", nullptr}}};
    return call("POST", "/api/v1/heartbeats", token, b.dump());
  }
};

std::string header(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

}  // namespace

TEST_CASE("dashboard routing") {
  std::string p;
  CHECK(http::match_route("GET", "/dashboard/", p) == Route::dashboard_asset);
  CHECK(p.empty());
  CHECK(http::match_route("GET", "/dashboard", p) == Route::dashboard_asset);
  CHECK(http::match_route("GET", "/dashboard/app.js", p) == Route::dashboard_asset);
  CHECK(p == "app.js");
  CHECK(http::match_route("GET", "/dashboard/a/b.js", p) == Route::not_found);
  CHECK(http::match_route("POST", "/dashboard/", p) == Route::method_not_allowed);
  CHECK(http::match_route("GET", "/api/v1/institutions", p) == Route::list_institutions);
  CHECK(http::match_route("GET", "/api/v1/stats/uploads", p) == Route::upload_stats);
  CHECK(http::match_route("GET", "/api/v1/agents/a%201/history", p) == Route::agent_history);
  CHECK(p == "a 1");
  CHECK(http::match_route("GET", "/api/v1/agents/a/b/history", p) == Route::not_found);
  CHECK(http::match_route("GET", "/api/v1/agents/a1", p) == Route::get_agent);
}

TEST_CASE("the page is served without a credential, with its type, cache and security headers") {
  Fixture f;
  auto page = f.get("/dashboard/", "");
  REQUIRE(page.status == 200);
  CHECK(page.content_type == "text/html; charset=utf-8");
  CHECK(page.body.find("<html lang=\"zh-CN\">") != std::string::npos);
  CHECK(header(page, "Cache-Control") == "no-cache");
  auto csp = header(page, "Content-Security-Policy");
  CHECK(csp.find("default-src 'none'") != std::string::npos);
  CHECK(csp.find("script-src 'self'") != std::string::npos);
  CHECK(csp.find("unsafe-inline") == std::string::npos);
  CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
  CHECK(header(page, "X-Content-Type-Options") == "nosniff");
  auto js = f.get("/dashboard/app.js", "");
  REQUIRE(js.status == 200);
  CHECK(js.content_type == "text/javascript; charset=utf-8");
  CHECK(f.get("/dashboard/style.css", "").content_type == "text/css; charset=utf-8");
  auto missing = f.get("/dashboard/secret.txt", "");
  CHECK(missing.status == 404);
  CHECK(test::json_of(missing)["error"] == "not_found");
}

TEST_CASE("ops role: sees every institution; agents get 403 on ops routes; ops cannot upload") {
  Fixture f;
  REQUIRE(f.beat(kAgentTok, 3).status == 200);
  REQUIRE(f.beat(kOtherTok, 1).status == 200);
  REQUIRE(f.put("hello", kAgentTok).status == 201);
  REQUIRE(f.put("world!", kAgentTok).status == 201);
  REQUIRE(f.put("hello", kOtherTok).status == 200);  // same bytes, second institution

  // Agents: only their own institution's fleet; no ops routes.
  auto mine = test::json_of(f.get("/api/v1/agents", kAgentTok))["agents"];
  REQUIRE(mine.size() == 1);
  CHECK(mine[0]["agent"] == "a1");
  for (const char* path : {"/api/v1/institutions", "/api/v1/stats/uploads"}) {
    auto r = f.get(path, kAgentTok);
    CHECK(r.status == 403);
    CHECK(test::json_of(r)["error"] == "forbidden");
  }
  CHECK(f.get("/api/v1/agents/b1/history", kAgentTok).status == 404);  // other institution: invisible
  CHECK(f.get("/api/v1/agents/a1/history", kAgentTok).status == 200);
  CHECK(f.get("/api/v1/institutions", "").status == 401);
  CHECK(f.get("/api/v1/institutions", "lbo_unknown").status == 401);

  // Ops: every agent of every institution.
  auto all = test::json_of(f.get("/api/v1/agents"))["agents"];
  REQUIRE(all.size() == 2);
  CHECK(all[0]["institution"] == "h1");
  CHECK(all[1]["agent"] == "b1");
  CHECK(f.get("/api/v1/agents/b1").status == 200);

  auto inst = f.get("/api/v1/institutions");
  REQUIRE(inst.status == 200);
  auto list = test::json_of(inst)["institutions"];
  REQUIRE(list.size() == 2);
  CHECK(list[0]["id"] == "h1");
  CHECK(list[0]["name"] == "Hospital One");
  CHECK(list[0]["agents"] == 1);
  CHECK(list[0]["healthy"] == 1);
  CHECK(list[0]["offline"] == 0);
  CHECK(list[0]["last_upload"].is_string());
  CHECK(list[1]["agents"] == 1);

  auto stats = f.get("/api/v1/stats/uploads?days=7");
  REQUIRE(stats.status == 200);
  auto s = test::json_of(stats);
  CHECK(s["days"] == 7);
  REQUIRE(s["day_list"].size() == 7);
  const std::string today = s["day_list"][6];
  CHECK(s["since"] == s["day_list"][0]);
  REQUIRE(s["daily"].size() == 2);
  CHECK(s["daily"][0]["institution"] == "h1");
  CHECK(s["daily"][0]["day"] == today);
  CHECK(s["daily"][0]["items"] == 2);
  CHECK(s["daily"][0]["bytes"] == 11);
  CHECK(s["daily"][1]["institution"] == "h2");
  CHECK(s["daily"][1]["items"] == 1);
  CHECK(s["daily"][1]["bytes"] == 5);
  REQUIRE(s["agents"].size() == 2);
  CHECK(s["agents"][0]["agent"] == "a1");
  CHECK(s["agents"][0]["items"] == 2);
  CHECK(f.get("/api/v1/stats/uploads?days=0").status == 400);
  CHECK(test::json_of(f.get("/api/v1/stats/uploads?days=91"))["field"] == "days");

  // Ops cannot act as an agent: uploads, heartbeats and institution-scoped reads are refused.
  auto up = f.put("from ops", kOpsTok);
  CHECK(up.status == 403);
  CHECK(test::json_of(up)["error"] == "forbidden");
  CHECK(f.beat(kOpsTok, 1).status == 403);
  CHECK(f.get("/api/v1/studies").status == 403);

  // A revoked operator is refused (401 "credential revoked" for a bearer token).
  REQUIRE(f.repo->revoke_operator("ops-zhang").ok());
  auto gone = f.get("/api/v1/institutions");
  CHECK((gone.status == 401 || gone.status == 403));
  CHECK(gone.body.find("revoked") != std::string::npos);
  CHECK(f.get("/api/v1/agents").status == gone.status);
}

TEST_CASE("agent history: downsampled points over the window, hours validated") {
  Fixture f;
  for (int i = 0; i < 3; ++i) REQUIRE(f.beat(kAgentTok, 2).status == 200);
  auto r = f.get("/api/v1/agents/a1/history?hours=168");
  REQUIRE(r.status == 200);
  auto j = test::json_of(r);
  CHECK(j["agent"] == "a1");
  CHECK(j["institution"] == "h1");
  CHECK(j["hours"] == 168);
  CHECK(j["bucket_seconds"] == 2016.0);  // 7 days / 300
  REQUIRE(j["points"].size() == 1);      // three beats within one bucket
  CHECK(j["points"][0]["beats"] == 3);
  CHECK(j["points"][0]["uploaded_items"] == 6);
  CHECK(j["points"][0]["backlog_bytes"] == 10);
  CHECK(j["points"][0]["oldest_pending_seconds"] == 3);
  CHECK(j["points"][0]["spool_free_bytes"] == 500);
  CHECK(f.get("/api/v1/agents/a1/history").status == 200);  // default 24 h
  CHECK(test::json_of(f.get("/api/v1/agents/a1/history?hours=169"))["field"] == "hours");
  CHECK(f.get("/api/v1/agents/ghost/history").status == 404);
}

TEST_CASE("/metrics: request latency by route class, ingest latency, heartbeats received") {
  Fixture f;
  REQUIRE(f.beat(kAgentTok, 1).status == 200);
  REQUIRE(f.beat(kAgentTok, 1).status == 200);
  REQUIRE(f.beat(kOpsTok, 1).status == 403);  // refused: not counted as received
  REQUIRE(f.put("bytes", kAgentTok).status == 201);
  REQUIRE(f.get("/dashboard/", "").status == 200);
  REQUIRE(f.get("/api/v1/institutions").status == 200);
  auto m = f.get("/metrics", "");
  REQUIRE(m.status == 200);
  const auto& b = m.body;
  CHECK(b.find("lightbox_hub_heartbeats_received_total 2\n") != std::string::npos);
  CHECK(b.find("lightbox_hub_request_seconds_count{route=\"heartbeat\"} 3\n") != std::string::npos);
  CHECK(b.find("lightbox_hub_request_seconds_count{route=\"ingest\"} 1\n") != std::string::npos);
  CHECK(b.find("lightbox_hub_request_seconds_bucket{route=\"ingest\",le=\"+Inf\"} 1\n") != std::string::npos);
  CHECK(b.find("lightbox_hub_request_seconds_count{route=\"dashboard\"} 1\n") != std::string::npos);
  CHECK(b.find("lightbox_hub_request_seconds_count{route=\"fleet\"} 1\n") != std::string::npos);
  CHECK(b.find("lightbox_hub_ingest_seconds_count 1\n") != std::string::npos);
  CHECK(b.find("a1") == std::string::npos);  // still aggregate: no agent names
  CHECK(b.find("h1") == std::string::npos);
}
