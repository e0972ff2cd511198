// Issue 4 (alerts): the state machine over a real AlertStore (SQLite in a scratch dir): for,
// fire once, repeat, ack, recovery, flap damping, routing, restart, and delivery with retries.
#include "hub/alerts/engine.hpp"

#include <doctest/doctest.h>

#include "common/clock/clock.hpp"
#include "hub/alerts/delivery.hpp"
#include "tests/unit/hub/test_support.hpp"

using namespace lightbox;
using namespace lightbox::hub;
using namespace lightbox::hub::alerts;

namespace {

constexpr std::int64_t kT0 = 1795579200000LL;
constexpr std::int64_t kSec = 1000;

AlertsConfig make_config() {
  AlertsConfig cfg;
  cfg.source_down.for_seconds = 60;
  cfg.source_down.repeat_minutes = 30;
  cfg.source_down.flap_seconds = 600;
  cfg.agent_offline.for_seconds = 0;
  ChannelConfig hook;
  hook.name = "hook";
  hook.type = "webhook";
  hook.min_severity = Severity::warning;
  ChannelConfig sms;
  sms.name = "sms";
  sms.type = "sms";
  sms.min_severity = Severity::critical;
  sms.institutions = {"h1"};
  sms.recipients = {"+8613800000001", "+8613800000002"};
  ChannelConfig robot;
  robot.name = "robot";
  robot.type = "wecom";
  robot.rules = {"source_down"};
  cfg.channels = {hook, sms, robot};
  return cfg;
}

Condition source_down(std::string agent = "a1", std::string inst = "h1") {
  return Condition{AlertKey{"source_down", inst, agent, "pacs"}, Severity::warning, "source 'pacs' is down"};
}
Condition offline(std::string agent = "a1", std::string inst = "h1") {
  return Condition{AlertKey{"agent_offline", inst, agent, ""}, Severity::critical, "agent is offline"};
}
Evaluation with(std::vector<Condition> c) {
  Evaluation ev;
  ev.conditions = std::move(c);
  return ev;
}

std::vector<std::string> events(const std::vector<Change>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes)
    if (!c.event.empty()) out.push_back(c.event);
  return out;
}

std::int64_t pending(AlertStore& s, const std::string& channel) {
  auto counts = s.outbox_counts();
  REQUIRE(counts.ok());
  for (const auto& c : *counts)
    if (c.channel == channel && c.state == "pending") return c.count;
  return 0;
}

struct Recorder final : AlertSink {
  std::vector<OutboundRequest> sent;
  int fail_next = 0;
  Status send(const ChannelConfig&, const OutboundRequest& req) override {
    if (fail_next > 0) {
      --fail_next;
      return fail(Errc::network, "connection refused");
    }
    sent.push_back(req);
    return {};
  }
};

}  // namespace

TEST_CASE("alerts engine: for_seconds, fire once, repeat, recovery") {
  test::ScratchDir dir;
  auto store = AlertStore::open(dir / "index.db").value();
  AlertsConfig cfg = make_config();
  Engine engine(cfg, *store);

  // Pending for 60 s: nothing fires before.
  CHECK(engine.step(with({source_down()}), kT0).value().empty());
  CHECK(engine.step(with({source_down()}), kT0 + 59 * kSec).value().empty());
  auto fired = engine.step(with({source_down()}), kT0 + 60 * kSec).value();
  REQUIRE(events(fired) == std::vector<std::string>{"firing"});
  // Routed to the webhook (warning >= warning) and the robot (rule listed), not to SMS (critical only).
  CHECK(fired[0].targets == std::vector<std::pair<std::string, std::string>>{{"hook", ""}, {"robot", ""}});
  const std::int64_t id = fired[0].alert.id;
  CHECK(id > 0);

  // Still firing: no new notification until repeat_minutes.
  CHECK(events(engine.step(with({source_down()}), kT0 + 120 * kSec).value()).empty());
  CHECK(events(engine.step(with({source_down()}), kT0 + (60 + 1799) * kSec).value()).empty());
  auto rep = engine.step(with({source_down()}), kT0 + (60 + 1800) * kSec).value();
  CHECK(events(rep) == std::vector<std::string>{"repeat"});
  CHECK(rep[0].alert.id == id);
  CHECK(rep[0].alert.notifications == 2);

  auto active = store->list(true, 10).value();
  REQUIRE(active.size() == 1);
  CHECK(to_json(active[0])["state"] == "firing");
  CHECK(to_json(active[0])["resolved_at"].is_null());

  // Clears: one recovery to the same channels.
  auto rec = engine.step(with({}), kT0 + 2000 * kSec).value();
  REQUIRE(events(rec) == std::vector<std::string>{"resolved"});
  CHECK(rec[0].targets.size() == 2);
  CHECK(store->list(true, 10).value().empty());
  auto hist = store->list(false, 10).value();
  REQUIRE(hist.size() == 1);
  CHECK(to_json(hist[0])["state"] == "resolved");
  CHECK(to_json(hist[0])["resolved_at"] == clock::iso_utc_ms(kT0 + 2000 * kSec));
  // Nothing more once resolved.
  CHECK(engine.step(with({}), kT0 + 2100 * kSec).value().empty());
  CHECK(pending(*store, "hook") == 3);  // firing, repeat, resolved
  CHECK(pending(*store, "robot") == 3);
  CHECK(pending(*store, "sms") == 0);
}

TEST_CASE("alerts engine: a condition that stops holding before for_seconds never fires") {
  test::ScratchDir dir;
  auto store = AlertStore::open(dir / "index.db").value();
  AlertsConfig cfg = make_config();
  Engine engine(cfg, *store);
  CHECK(engine.step(with({source_down()}), kT0).value().empty());
  CHECK(engine.step(with({}), kT0 + 30 * kSec).value().empty());
  // Starts over: another full 60 s is needed.
  CHECK(engine.step(with({source_down()}), kT0 + 40 * kSec).value().empty());
  CHECK(engine.step(with({source_down()}), kT0 + 90 * kSec).value().empty());
  CHECK(events(engine.step(with({source_down()}), kT0 + 100 * kSec).value()).size() == 1);
}

TEST_CASE("alerts engine: flapping reopens silently and counts; the next notice and recovery pair up") {
  test::ScratchDir dir;
  auto store = AlertStore::open(dir / "index.db").value();
  AlertsConfig cfg = make_config();
  cfg.agent_offline.flap_seconds = 300;
  cfg.agent_offline.repeat_minutes = 10;
  Engine engine(cfg, *store);
  auto f = engine.step(with({offline()}), kT0).value();
  REQUIRE(events(f) == std::vector<std::string>{"firing"});
  // Critical, h1: webhook + both SMS recipients (the robot only takes source_down).
  CHECK(f[0].targets.size() == 3);
  const auto id = f[0].alert.id;
  CHECK(events(engine.step(with({}), kT0 + 30 * kSec).value()) == std::vector<std::string>{"resolved"});
  // Back within flap_seconds: same alert, no "firing", a flap counted.
  auto re = engine.step(with({offline()}), kT0 + 60 * kSec).value();
  REQUIRE(re.size() == 1);
  CHECK(re[0].event.empty());
  CHECK(re[0].alert.id == id);
  CHECK(re[0].alert.flaps == 1);
  CHECK(store->get(id).value().firing);
  // Clears again: nobody was told it came back, so no second recovery.
  auto quiet = engine.step(with({}), kT0 + 90 * kSec).value();
  REQUIRE(quiet.size() == 1);
  CHECK(quiet[0].event.empty());
  // Flaps again, then holds: the repeat timer (from the first firing) brings a "firing" again...
  CHECK(events(engine.step(with({offline()}), kT0 + 120 * kSec).value()).empty());
  CHECK(store->get(id).value().flaps == 2);
  auto again = engine.step(with({offline()}), kT0 + 600 * kSec).value();
  CHECK(events(again) == std::vector<std::string>{"firing"});
  CHECK(again[0].alert.id == id);
  // ...and then its recovery is owed.
  CHECK(events(engine.step(with({}), kT0 + 700 * kSec).value()) == std::vector<std::string>{"resolved"});
  // After flap_seconds a new episode is a new alert.
  auto fresh = engine.step(with({offline()}), kT0 + 1100 * kSec).value();
  REQUIRE(events(fresh) == std::vector<std::string>{"firing"});
  CHECK(fresh[0].alert.id != id);
  CHECK(fresh[0].alert.flaps == 0);
}

TEST_CASE("alerts engine: ack stops repeats, not the recovery; state survives a restart") {
  test::ScratchDir dir;
  AlertsConfig cfg = make_config();
  std::int64_t id = 0;
  {
    auto store = AlertStore::open(dir / "index.db").value();
    Engine engine(cfg, *store);
    auto f = engine.step(with({offline("a9", "h2")}), kT0).value();
    REQUIRE(events(f) == std::vector<std::string>{"firing"});
    // h2 is not in the SMS channel's institutions.
    CHECK(f[0].targets == std::vector<std::pair<std::string, std::string>>{{"hook", ""}});
    id = f[0].alert.id;
    auto acked = store->ack(id, "zhang", "on it", kT0 + kSec).value();
    CHECK(to_json(acked)["acked_by"] == "zhang");
    CHECK(to_json(acked)["ack_note"] == "on it");
    CHECK(store->ack(id + 100, "zhang", "", kT0).error().code == Errc::not_found);
  }
  // A new store and engine (hub restart): the alert is still firing and acked.
  auto store = AlertStore::open(dir / "index.db").value();
  Engine engine(cfg, *store);
  CHECK(events(engine.step(with({offline("a9", "h2")}), kT0 + 7200 * kSec).value()).empty());
  auto rec = engine.step(with({}), kT0 + 7300 * kSec).value();
  CHECK(events(rec) == std::vector<std::string>{"resolved"});
  CHECK(rec[0].alert.id == id);
  CHECK(pending(*store, "hook") == 2);
}

TEST_CASE("alerts engine: stale and unknown agents keep their alerts as they are") {
  test::ScratchDir dir;
  auto store = AlertStore::open(dir / "index.db").value();
  AlertsConfig cfg = make_config();
  cfg.source_down.for_seconds = 0;
  Engine engine(cfg, *store);
  REQUIRE(events(engine.step(with({source_down()}), kT0).value()).size() == 1);
  // The agent went offline: its source alert neither resolves nor is re-notified.
  Evaluation ev = with({offline()});
  ev.stale_agents.insert("a1");
  auto ch = engine.step(ev, kT0 + 10 * kSec).value();
  CHECK(events(ch) == std::vector<std::string>{"firing"});  // the offline alert only
  CHECK(store->list(true, 10).value().size() == 2);
  // Hub restarted and the agent has not beaten yet: nothing of it changes.
  Evaluation unknown;
  unknown.unknown_agents.insert("a1");
  CHECK(engine.step(unknown, kT0 + 20 * kSec).value().empty());
  CHECK(store->list(true, 10).value().size() == 2);
}

TEST_CASE("alerts delivery: in order per alert, retried with backoff, counted") {
  test::ScratchDir dir;
  auto store = AlertStore::open(dir / "index.db").value();
  AlertsConfig cfg = make_config();
  cfg.delivery.retry_initial_seconds = 5;
  cfg.delivery.max_attempts = 3;
  cfg.source_down.for_seconds = 0;
  Engine engine(cfg, *store);
  log::Logger log{log::Level::off};
  DeliveryCounters counters(cfg.channels);
  Dispatcher d(cfg, *store, counters, log);
  Recorder sink;
  const ChannelConfig& hook = cfg.channels[0];

  REQUIRE(events(engine.step(with({source_down()}), kT0).value()).size() == 1);
  REQUIRE(events(engine.step(with({}), kT0 + kSec).value()).size() == 1);
  // The firing fails once: the recovery must wait behind it, not overtake it.
  sink.fail_next = 1;
  CHECK(d.deliver_due(hook, sink, kT0 + 2 * kSec).value() == 1);
  CHECK(sink.sent.empty());
  CHECK(counters.get("hook", "retry") == 1);
  CHECK(d.deliver_due(hook, sink, kT0 + 3 * kSec).value() == 0);  // not due yet
  const std::int64_t next = store->next_due("hook").value().value();
  CHECK(next >= kT0 + 2 * kSec + 4500);
  CHECK(next <= kT0 + 2 * kSec + 5500);
  CHECK(d.deliver_due(hook, sink, next).value() == 1);
  REQUIRE(sink.sent.size() == 1);
  CHECK(nlohmann::json::parse(sink.sent[0].body)["event"] == "firing");
  CHECK(d.deliver_due(hook, sink, next).value() == 1);
  REQUIRE(sink.sent.size() == 2);
  CHECK(nlohmann::json::parse(sink.sent[1].body)["event"] == "resolved");
  CHECK(counters.get("hook", "sent") == 2);
  CHECK(pending(*store, "hook") == 0);
  CHECK(d.deliver_due(hook, sink, next + 100000).value() == 0);  // exactly once

  // Gives up after max_attempts, logged as failed.
  REQUIRE(events(engine.step(with({source_down("a2")}), kT0 + 10 * kSec).value()).size() == 1);
  sink.fail_next = 100;
  std::int64_t t = kT0 + 11 * kSec;
  for (int i = 0; i < 3; ++i) {
    CHECK(d.deliver_due(hook, sink, t).value() == 1);
    t += 3600 * kSec;
  }
  CHECK(counters.get("hook", "failed") == 1);
  CHECK(counters.get("hook", "retry") == 3);
  CHECK(pending(*store, "hook") == 0);
  CHECK(counters.render().find("lightbox_hub_alert_deliveries_total{channel=\"hook\",result=\"failed\"} 1") !=
        std::string::npos);
  CHECK(d.backoff_ms(1, 0) >= 4500);
  CHECK(d.backoff_ms(1, 20) <= cfg.delivery.retry_max_seconds * 1100);
}

TEST_CASE("alerts store: pruning keeps what is pending and what is recent") {
  test::ScratchDir dir;
  auto store = AlertStore::open(dir / "index.db").value();
  AlertsConfig cfg = make_config();
  Engine engine(cfg, *store);
  log::Logger log{log::Level::off};
  DeliveryCounters counters(cfg.channels);
  Dispatcher d(cfg, *store, counters, log);
  Recorder sink;
  auto fired = engine.step(with({offline()}), kT0).value();
  REQUIRE(events(fired).size() == 1);
  const std::int64_t id = fired[0].alert.id;
  REQUIRE(events(engine.step(with({}), kT0 + kSec).value()).size() == 1);
  CHECK(d.deliver_due(cfg.channels[0], sink, kT0 + 2 * kSec).value() == 1);  // hook: firing sent
  // Everything is old now; the hook's recovery and the SMS messages are still pending.
  REQUIRE(store->prune(kT0 + 100 * kSec, kT0 + 100 * kSec).ok());
  CHECK(pending(*store, "hook") == 1);
  CHECK(pending(*store, "sms") == 4);
  CHECK(store->get(id).ok());  // kept: messages still owed
  // Once nothing is owed, the resolved alert and its delivered rows go.
  CHECK(d.deliver_due(cfg.channels[0], sink, kT0 + 3 * kSec).value() == 1);
  CHECK(d.deliver_due(cfg.channels[1], sink, kT0 + 3 * kSec).value() == 2);
  CHECK(d.deliver_due(cfg.channels[1], sink, kT0 + 3 * kSec).value() == 2);
  REQUIRE(store->prune(kT0 + 100 * kSec, kT0 + 100 * kSec).ok());
  CHECK(store->outbox_counts().value().empty());
  CHECK(store->list(false, 10).value().empty());
}

TEST_CASE("alerts store: messages for a channel removed from the config are given up") {
  test::ScratchDir dir;
  auto store = AlertStore::open(dir / "index.db").value();
  AlertsConfig cfg = make_config();
  Engine engine(cfg, *store);
  REQUIRE(events(engine.step(with({offline()}), kT0).value()).size() == 1);
  CHECK(pending(*store, "sms") == 2);
  CHECK(store->drop_unconfigured({"hook", "robot"}, kT0 + kSec).value() == 2);
  CHECK(pending(*store, "sms") == 0);
  CHECK(pending(*store, "hook") == 1);
  CHECK(store->drop_unconfigured({"hook", "robot"}, kT0 + kSec).value() == 0);
}
