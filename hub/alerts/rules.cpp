#include "hub/alerts/rules.hpp"

#include <algorithm>
#include <cstdio>

#include "common/clock/clock.hpp"

namespace lightbox::hub::alerts {
namespace {

constexpr std::int64_t kDayMs = 86400000;

std::string fmt_percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

Condition make(std::string_view rule, const RuleConfig& rc, const fleet::AgentBeats& a, std::string subject,
               std::string message) {
  return Condition{AlertKey{std::string(rule), a.institution, a.agent, std::move(subject)}, rc.severity,
                   std::move(message)};
}

void agent_rules(const AlertsConfig& cfg, const Snapshot& snap, const fleet::AgentBeats& a, std::int64_t now,
                 Evaluation& ev) {
  auto& out = ev.conditions;
  // An agent that never sent a beat is not yet installed, not down.
  if (a.recent.empty()) return;
  const fleet::Beat& last = a.recent.front();
  auto health = fleet::assess(a.recent, now);
  if (health.status == fleet::Health::offline) {
    // Right after a hub restart every agent looks silent: give each three intervals to beat.
    if (snap.started_ms > last.received_ms && now - snap.started_ms <= 3 * last.interval_s * 1000) {
      ev.unknown_agents.insert(a.agent);
      return;
    }
    ev.stale_agents.insert(a.agent);
    if (cfg.agent_offline.enabled)
      out.push_back(make(kAgentOffline, cfg.agent_offline, a, "",
                         "agent " + a.agent + " (" + a.institution + ") is offline: no heartbeat for " +
                             std::to_string((now - last.received_ms) / 1000) + " s"));
    // The rest of what its last beat says is stale: the offline alert covers it.
    return;
  }
  if (cfg.source_down.enabled && last.body.contains("sources") && last.body["sources"].is_array()) {
    for (const auto& s : last.body["sources"]) {
      if (!s.is_object() || !s.contains("last_error") || !s["last_error"].is_string()) continue;
      const std::string err = s["last_error"].get<std::string>();
      if (err.empty()) continue;
      const std::string name = s.value("name", "");
      out.push_back(
          make(kSourceDown, cfg.source_down, a, name,
               "source '" + name + "' of agent " + a.agent + " (" + a.institution + ") is down: " + err));
    }
  }
  if (cfg.backlog_age.enabled) {
    auto it = last.body.find("oldest_pending_age_seconds");
    if (it != last.body.end() && it->is_number()) {
      const double age_s = it->get<double>();
      if (age_s > static_cast<double>(cfg.backlog_age.max_age_minutes) * 60)
        out.push_back(make(kBacklogAge, cfg.backlog_age, a, "",
                           "backlog of agent " + a.agent + " (" + a.institution + ") is " +
                               std::to_string(static_cast<std::int64_t>(age_s / 60)) + " min old (limit " +
                               std::to_string(cfg.backlog_age.max_age_minutes) + " min), " +
                               std::to_string(last.backlog_bytes) + " bytes waiting"));
    }
  }
  if (cfg.spool_disk.enabled &&
      (last.disk_full || (last.spool_total > 0 &&
                          last.spool_free * 100 < cfg.spool_disk.min_free_percent * last.spool_total))) {
    const double pct = last.spool_total > 0 ? 100.0 * static_cast<double>(last.spool_free) /
                                                  static_cast<double>(last.spool_total)
                                            : 0.0;
    out.push_back(make(kSpoolDisk, cfg.spool_disk, a, "",
                       "spool disk of agent " + a.agent + " (" + a.institution + ") " +
                           (last.disk_full ? std::string("is full") : "has " + fmt_percent(pct) + " % free") +
                           " (limit " + std::to_string(cfg.spool_disk.min_free_percent) + " %)"));
  }
  if (cfg.error_rate.enabled) {
    auto it = snap.windows.find(a.agent);
    if (it != snap.windows.end()) {
      const auto& w = it->second;
      const double ratio =
          w.errors + w.uploaded_items > 0
              ? static_cast<double>(w.errors) / static_cast<double>(w.errors + w.uploaded_items)
              : 0.0;
      if (w.errors >= cfg.error_rate.min_errors && ratio >= cfg.error_rate.max_error_ratio)
        out.push_back(make(kErrorRate, cfg.error_rate, a, "",
                           "agent " + a.agent + " (" + a.institution + ") had " + std::to_string(w.errors) +
                               " errors in " + std::to_string(cfg.error_rate.window_minutes) + " min (" +
                               fmt_percent(ratio * 100) + " % of " +
                               std::to_string(w.errors + w.uploaded_items) + " items)"));
    }
  }
}

void absence_rule(const RuleConfig& rc, const Snapshot& snap, std::int64_t now, std::vector<Condition>& out) {
  const std::int64_t today = local_day(now, rc.utc_offset_minutes);
  auto is_working = [&](std::int64_t day) {
    return std::find(rc.working_days.begin(), rc.working_days.end(), weekday(day)) != rc.working_days.end();
  };
  if (!is_working(today)) return;
  const std::int64_t local_ms = now + rc.utc_offset_minutes * 60000;
  const std::int64_t hour = ((local_ms % kDayMs + kDayMs) % kDayMs) / 3600000;
  if (hour < rc.after_hour) return;
  const std::string today_s = day_string(today);
  for (const auto& [institution, days] : snap.uploads) {
    auto t = days.find(today_s);
    if (t != days.end() && t->second > 0) continue;
    // "Usually sends": it sent on at least min_active_days of the last lookback_days working days.
    std::int64_t looked = 0, active = 0;
    for (std::int64_t d = today - 1; looked < rc.lookback_days && d > today - 4 * rc.lookback_days - 7; --d) {
      if (!is_working(d)) continue;
      ++looked;
      auto it = days.find(day_string(d));
      if (it != days.end() && it->second > 0) ++active;
    }
    if (active < rc.min_active_days) continue;
    out.push_back(Condition{AlertKey{std::string(kAbsence), institution, "", ""}, rc.severity,
                            "no data from institution " + institution + " today (" + today_s + ", after " +
                                std::to_string(rc.after_hour) + ":00 local); it sent on " +
                                std::to_string(active) + " of the last " + std::to_string(looked) +
                                " working days"});
  }
}

}  // namespace

std::int64_t local_day(std::int64_t now_ms, std::int64_t utc_offset_minutes) {
  const std::int64_t local = now_ms + utc_offset_minutes * 60000;
  return local >= 0 ? local / kDayMs : -((-local + kDayMs - 1) / kDayMs);
}

std::string day_string(std::int64_t day) { return clock::utc_date(day * kDayMs); }

int weekday(std::int64_t day) { return static_cast<int>(((day % 7) + 7 + 4) % 7); }

Evaluation evaluate_rules(const AlertsConfig& cfg, const Snapshot& snap, std::int64_t now_ms) {
  Evaluation ev;
  for (const auto& a : snap.agents) agent_rules(cfg, snap, a, now_ms, ev);
  if (cfg.absence.enabled) absence_rule(cfg.absence, snap, now_ms, ev.conditions);
  return ev;
}

}  // namespace lightbox::hub::alerts
