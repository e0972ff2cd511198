#include "hub/alerts/service.hpp"

#include <chrono>

#include "common/clock/clock.hpp"

namespace lightbox::hub::alerts {
namespace {

constexpr std::string_view kCat = "hub.alerts";
constexpr std::int64_t kDayMs = 86400000;
constexpr std::int64_t kKeepOutboxMs = 30 * kDayMs;   // delivered messages, for inspection
constexpr std::int64_t kKeepAlertsMs = 400 * kDayMs;  // resolved alerts: over a year of history

}  // namespace

AlertService::AlertService(const AlertsConfig& cfg, std::unique_ptr<AlertStore> store,
                           fleet::FleetRepository& fleet, log::Logger& log, std::int64_t started_ms)
    : cfg_(cfg),
      store_(std::move(store)),
      fleet_(fleet),
      log_(log),
      started_ms_(started_ms),
      engine_(cfg, *store_),
      counters_(cfg.channels),
      dispatcher_(cfg, *store_, counters_, log) {}

Result<std::unique_ptr<AlertService>> AlertService::open(const AlertsConfig& cfg,
                                                         const std::string& index_path,
                                                         fleet::FleetRepository& fleet, log::Logger& log) {
  auto store = AlertStore::open(index_path);
  if (!store) return std::move(store).error();
  return std::unique_ptr<AlertService>(new AlertService(cfg, std::move(*store), fleet, log, clock::now_ms()));
}

Result<std::vector<Change>> AlertService::evaluate_once(std::int64_t now_ms) {
  Snapshot snap;
  snap.started_ms = started_ms_;
  auto agents = fleet_.agents("");
  if (!agents) return std::move(agents).error();
  snap.agents = std::move(*agents);
  if (cfg_.error_rate.enabled) {
    auto w = store_->window_totals(now_ms - cfg_.error_rate.window_minutes * 60000);
    if (!w) return std::move(w).error();
    snap.windows = std::move(*w);
  }
  if (cfg_.absence.enabled)
    if (auto s = absence_history(now_ms, snap.uploads); !s) return std::move(s).error();
  if (now_ms - pruned_ms_ >= 3600000) {
    pruned_ms_ = now_ms;
    if (auto s = store_->prune(now_ms - kKeepOutboxMs, now_ms - kKeepAlertsMs); !s)
      log_.warn(kCat, "alert tables not pruned", {{"error", s.error().to_string()}});
  }
  auto changes = engine_.step(evaluate_rules(cfg_, snap, now_ms), now_ms);
  if (!changes) return changes;
  bool owed = false;
  for (const auto& c : *changes) {
    if (!c.event.empty()) owed = owed || !c.targets.empty();
    if (c.event.empty() && c.alert.firing) continue;  // a message refresh or a silent (flap) reopen
    const char* what = c.event.empty()         ? "alert resolved silently"
                       : c.event == "resolved" ? "alert resolved"
                                               : "alert notified";
    log_.info(kCat, what,
              {{"id", c.alert.id},
               {"rule", c.alert.key.rule},
               {"institution", c.alert.key.institution},
               {"agent", c.alert.key.agent},
               {"subject", c.alert.key.subject},
               {"event", c.event},
               {"severity", severity_name(c.alert.severity)},
               {"targets", c.targets.size()},
               {"flaps", c.alert.flaps}});
  }
  if (owed) dispatcher_.wake();
  return changes;
}

Status AlertService::absence_history(std::int64_t now_ms, std::map<std::string, DailyCounts>& uploads) {
  const auto& r = cfg_.absence;
  const std::int64_t today = local_day(now_ms, r.utc_offset_minutes);
  auto day_start = [&](std::int64_t day) { return day * kDayMs - r.utc_offset_minutes * 60000; };
  if (history_day_ != today) {
    // As far back as the rule walks to find lookback_days working days.
    std::map<std::string, DailyCounts> h;
    for (std::int64_t d = today - 1; d > today - 4 * r.lookback_days - 7; --d) {
      auto sent = store_->institutions_sent(day_start(d), day_start(d + 1));
      if (!sent) return std::move(sent).error();
      for (const auto& inst : *sent) h[inst][day_string(d)] = 1;
    }
    history_ = std::move(h);
    history_day_ = today;
  }
  uploads = history_;
  auto sent = store_->institutions_sent(day_start(today), day_start(today + 1));
  if (!sent) return std::move(sent).error();
  for (const auto& inst : *sent) uploads[inst][day_string(today)] = 1;
  return {};
}

void AlertService::start(SinkFactory factory) {
  if (!factory)
    factory = [this](const ChannelConfig& ch, const std::atomic<bool>& stop) {
      return make_http_sink(ch, cfg_.delivery, stop);
    };
  std::vector<std::string> names;
  for (const auto& ch : cfg_.channels) names.push_back(ch.name);
  auto dropped = store_->drop_unconfigured(names, clock::now_ms());
  if (!dropped)
    log_.error(kCat, "alert outbox unreadable", {{"error", dropped.error().to_string()}});
  else if (*dropped > 0)
    log_.warn(kCat, "alert messages dropped: their channel is no longer configured", {{"count", *dropped}});
  dispatcher_.start(std::move(factory));
  evaluator_ = std::thread([this] { run_evaluator(); });
  log_.info(kCat, "alerting started",
            {{"evaluate_seconds", cfg_.evaluate_seconds}, {"channels", cfg_.channels.size()}});
}

void AlertService::run_evaluator() {
  std::unique_lock lock(mu_);
  while (!stop_.load()) {
    lock.unlock();
    try {
      auto r = evaluate_once(clock::now_ms());
      if (!r) log_.error(kCat, "alert evaluation failed", {{"error", r.error().to_string()}});
    } catch (const std::exception& e) {
      log_.error(kCat, "alert evaluation failed", {{"what", e.what()}});
    }
    lock.lock();
    cv_.wait_for(lock, std::chrono::seconds(cfg_.evaluate_seconds), [&] { return stop_.load(); });
  }
}

void AlertService::request_stop() {
  {
    std::lock_guard lock(mu_);
    stop_.store(true);
  }
  cv_.notify_all();
  dispatcher_.request_stop();
}

void AlertService::stop() {
  request_stop();
  if (evaluator_.joinable()) evaluator_.join();
  dispatcher_.stop();
}

std::string AlertService::metrics_text() {
  std::string out = counters_.render();
  auto firing = store_->list(true, -1);
  if (firing) {
    std::int64_t by[3] = {0, 0, 0};
    for (const auto& a : *firing) by[static_cast<int>(a.severity)] += 1;
    out +=
        "# HELP lightbox_hub_alerts_firing Alerts currently firing by severity.\n"
        "# TYPE lightbox_hub_alerts_firing gauge\n";
    for (Severity s : {Severity::info, Severity::warning, Severity::critical})
      out += "lightbox_hub_alerts_firing{severity=\"" + std::string(severity_name(s)) + "\"} " +
             std::to_string(by[static_cast<int>(s)]) + "\n";
  }
  return out;
}

}  // namespace lightbox::hub::alerts
