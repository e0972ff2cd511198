// Issue 4 (alerts): the rules, from fleet snapshots and daily counts to conditions. Pure.
#include "hub/alerts/rules.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace lightbox;
using namespace lightbox::hub;
using namespace lightbox::hub::alerts;

namespace {

// Wednesday 2026-11-25 12:00 at UTC+8 (04:00 UTC).
constexpr std::int64_t kNow = 1795579200000LL;

fleet::Beat beat(std::int64_t received_ms) {
  fleet::Beat b;
  b.agent = "a1";
  b.institution = "h1";
  b.received_ms = received_ms;
  b.interval_s = 30;
  b.spool_total = 1000;
  b.spool_free = 500;
  b.body = {{"sources", nlohmann::json::array({{{"name", "pacs"}, {"last_error", nullptr}}})},
            {"oldest_pending_age_seconds", 10}};
  return b;
}

fleet::AgentBeats agent(fleet::Beat b) { return fleet::AgentBeats{b.agent, b.institution, {std::move(b)}}; }

bool has(const Evaluation& ev, std::string_view rule, std::string_view subject = "") {
  return std::any_of(ev.conditions.begin(), ev.conditions.end(),
                     [&](const Condition& c) { return c.key.rule == rule && c.key.subject == subject; });
}

}  // namespace

TEST_CASE("alerts rules: the calendar helpers") {
  CHECK(day_string(local_day(kNow, 480)) == "2026-11-25");
  CHECK(weekday(local_day(kNow, 480)) == 3);
  // 23:30 UTC on the 24th is already the 25th in Beijing, still the 24th in UTC.
  const std::int64_t late = kNow - 4 * 3600 * 1000 - 30 * 60 * 1000;
  CHECK(day_string(local_day(late, 0)) == "2026-11-24");
  CHECK(day_string(local_day(late, 480)) == "2026-11-25");
}

TEST_CASE("alerts rules: a healthy agent raises nothing; each threshold raises its own rule") {
  AlertsConfig cfg;
  cfg.absence.enabled = false;
  Snapshot snap;
  snap.agents.push_back(agent(beat(kNow - 5000)));
  CHECK(evaluate_rules(cfg, snap, kNow).conditions.empty());

  SUBCASE("offline after three silent intervals, and only that") {
    auto b = beat(kNow - 91000);
    b.body["sources"][0]["last_error"] = "connection refused";
    snap.agents = {agent(b)};
    auto ev = evaluate_rules(cfg, snap, kNow);
    REQUIRE(ev.conditions.size() == 1);
    CHECK(ev.conditions[0].key.rule == "agent_offline");
    CHECK(ev.conditions[0].key.agent == "a1");
    CHECK(ev.conditions[0].key.institution == "h1");
    CHECK(ev.conditions[0].severity == Severity::critical);
    CHECK(ev.conditions[0].message.find("no heartbeat for 91 s") != std::string::npos);
    CHECK(ev.stale_agents.count("a1") == 1);
    // Still within three intervals: not offline.
    snap.agents = {agent(beat(kNow - 89000))};
    CHECK(evaluate_rules(cfg, snap, kNow).conditions.empty());
  }
  SUBCASE("a silent agent right after a hub restart is unknown, not offline") {
    snap.started_ms = kNow - 20000;
    snap.agents = {agent(beat(kNow - 3600000))};
    auto ev = evaluate_rules(cfg, snap, kNow);
    CHECK(ev.conditions.empty());
    CHECK(ev.unknown_agents.count("a1") == 1);
    // Three intervals after the start it is offline.
    CHECK(has(evaluate_rules(cfg, snap, kNow + 71000), "agent_offline"));
  }
  SUBCASE("a failing source, keyed by its name") {
    auto b = beat(kNow - 5000);
    b.body["sources"][0]["last_error"] = "connection refused";
    snap.agents = {agent(b)};
    auto ev = evaluate_rules(cfg, snap, kNow);
    REQUIRE(ev.conditions.size() == 1);
    CHECK(has(ev, "source_down", "pacs"));
    CHECK(ev.conditions[0].message.find("connection refused") != std::string::npos);
    cfg.source_down.enabled = false;
    CHECK(evaluate_rules(cfg, snap, kNow).conditions.empty());
  }
  SUBCASE("backlog older than max_age_minutes") {
    auto b = beat(kNow - 5000);
    b.body["oldest_pending_age_seconds"] = 3601;
    snap.agents = {agent(b)};
    CHECK(has(evaluate_rules(cfg, snap, kNow), "backlog_age"));
    cfg.backlog_age.max_age_minutes = 61;
    CHECK_FALSE(has(evaluate_rules(cfg, snap, kNow), "backlog_age"));
    b.body["oldest_pending_age_seconds"] = nullptr;  // an empty queue
    snap.agents = {agent(b)};
    CHECK(evaluate_rules(cfg, snap, kNow).conditions.empty());
  }
  SUBCASE("spool disk under min_free_percent, or full") {
    auto b = beat(kNow - 5000);
    b.spool_free = 99;  // 9.9 %
    snap.agents = {agent(b)};
    auto ev = evaluate_rules(cfg, snap, kNow);
    REQUIRE(has(ev, "spool_disk"));
    CHECK(ev.conditions[0].message.find("9.9 % free") != std::string::npos);
    b.spool_free = 100;  // exactly 10 %: fine
    snap.agents = {agent(b)};
    CHECK(evaluate_rules(cfg, snap, kNow).conditions.empty());
    b.disk_full = true;
    snap.agents = {agent(b)};
    CHECK(has(evaluate_rules(cfg, snap, kNow), "spool_disk"));
  }
  SUBCASE("error rate needs both the count and the ratio") {
    snap.windows["a1"] = WindowTotals{10, 190};  // 5 %
    CHECK(has(evaluate_rules(cfg, snap, kNow), "error_rate"));
    snap.windows["a1"] = WindowTotals{10, 191};  // just under 5 %
    CHECK_FALSE(has(evaluate_rules(cfg, snap, kNow), "error_rate"));
    snap.windows["a1"] = WindowTotals{9, 0};  // too few
    CHECK_FALSE(has(evaluate_rules(cfg, snap, kNow), "error_rate"));
  }
  SUBCASE("an agent that never beat is not alerted") {
    snap.agents = {fleet::AgentBeats{"new", "h1", {}}};
    CHECK(evaluate_rules(cfg, snap, kNow).conditions.empty());
  }
}

TEST_CASE("alerts rules: absence on a working day when the institution usually sends") {
  AlertsConfig cfg;
  auto& r = cfg.absence;
  r.after_hour = 11;
  r.lookback_days = 5;
  r.min_active_days = 3;
  Snapshot snap;
  // Sent on Mon 23, Fri 20, Thu 19 (three of the last five working days); nothing today (Wed 25).
  snap.uploads["h1"] = {{"2026-11-23", 40}, {"2026-11-20", 12}, {"2026-11-19", 7}, {"2026-11-22", 3}};
  // A sporadic sender: only once.
  snap.uploads["h2"] = {{"2026-11-23", 1}};

  auto ev = evaluate_rules(cfg, snap, kNow);
  REQUIRE(ev.conditions.size() == 1);
  CHECK(ev.conditions[0].key.rule == "absence");
  CHECK(ev.conditions[0].key.institution == "h1");
  CHECK(ev.conditions[0].key.agent.empty());
  CHECK(ev.conditions[0].message.find("2026-11-25") != std::string::npos);
  CHECK(ev.conditions[0].message.find("3 of the last 5 working days") != std::string::npos);

  SUBCASE("not before after_hour local time") {
    CHECK(evaluate_rules(cfg, snap, kNow - 2 * 3600 * 1000).conditions.empty());  // 10:00 local
  }
  SUBCASE("not once it sent today") {
    snap.uploads["h1"]["2026-11-25"] = 1;
    CHECK(evaluate_rules(cfg, snap, kNow).conditions.empty());
  }
  SUBCASE("not on a day off") {
    r.working_days = {1, 2, 4, 5};  // Wednesday off
    CHECK(evaluate_rules(cfg, snap, kNow).conditions.empty());
  }
  SUBCASE("not when history is too thin") {
    r.min_active_days = 4;
    CHECK(evaluate_rules(cfg, snap, kNow).conditions.empty());
  }
  SUBCASE("weekend sends do not count as working-day history") {
    snap.uploads["h1"].erase("2026-11-19");  // leaves Mon, Fri and the Sunday
    CHECK(evaluate_rules(cfg, snap, kNow).conditions.empty());
  }
}
