#include "hub/alerts/engine.hpp"

#include <set>

namespace lightbox::hub::alerts {

const RuleConfig& Engine::rule(const std::string& name) const {
  const RuleConfig* r = cfg_.rule(name);
  return r ? *r : cfg_.source_down;  // unknown (older) rule names: the plain defaults
}

std::vector<std::pair<std::string, std::string>> Engine::targets(const AlertKey& key, Severity s) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& ch : cfg_.channels) {
    if (!ch.routes(key, s)) continue;
    if (ch.type == "sms") {
      for (const auto& phone : ch.recipients) out.emplace_back(ch.name, phone);
    } else {
      out.emplace_back(ch.name, "");
    }
  }
  return out;
}

Result<std::vector<Change>> Engine::step(const Evaluation& ev, std::int64_t now_ms) {
  auto firing = store_.firing();
  if (!firing) return std::move(firing).error();
  std::int64_t max_flap_ms = 0;
  for (auto name : {kAgentOffline, kSourceDown, kBacklogAge, kSpoolDisk, kErrorRate, kAbsence})
    max_flap_ms = std::max(max_flap_ms, cfg_.rule(name)->flap_seconds * 1000);
  auto recent = store_.resolved_since(now_ms - max_flap_ms);
  if (!recent) return std::move(recent).error();

  std::map<std::string, Alert> open, closed;
  for (auto& a : *firing) open.emplace(a.key.str(), std::move(a));
  for (auto& a : *recent) closed.emplace(a.key.str(), std::move(a));

  std::vector<Change> changes;
  std::set<std::string> present;
  auto notify = [&](Alert& a, const char* event) {
    a.last_notified_ms = now_ms;
    a.notifications += 1;
    a.notified_open = true;
    changes.push_back(Change{a, event, targets(a.key, a.severity)});
  };

  for (const auto& c : ev.conditions) {
    const std::string k = c.key.str();
    if (!present.insert(k).second) continue;  // one condition per key and step
    const RuleConfig& rc = rule(c.key.rule);
    if (auto it = open.find(k); it != open.end()) {
      Alert a = it->second;
      const bool changed = a.message != c.message || a.severity != c.severity;
      a.message = c.message;
      a.severity = c.severity;
      const bool repeat_due = rc.repeat_minutes > 0 && a.acked_ms == 0 &&
                              now_ms - a.last_notified_ms >= rc.repeat_minutes * 60000;
      // After a silent reopen (flap) the next notice is a "firing" again, since a recovery went out.
      if (repeat_due)
        notify(a, a.notified_open ? "repeat" : "firing");
      else if (changed)
        changes.push_back(Change{a, "", {}});
      continue;
    }
    auto [pit, fresh] = pending_.emplace(k, now_ms);
    (void)fresh;
    if (now_ms - pit->second < rc.for_seconds * 1000) continue;
    pending_.erase(pit);
    if (auto it = closed.find(k);
        it != closed.end() && now_ms - it->second.resolved_ms <= rc.flap_seconds * 1000) {
      Alert a = it->second;
      a.firing = true;
      a.resolved_ms = 0;
      a.flaps += 1;
      a.message = c.message;
      a.severity = c.severity;
      a.notified_open = false;
      changes.push_back(Change{a, "", {}});
      continue;
    }
    Alert a;
    a.key = c.key;
    a.severity = c.severity;
    a.message = c.message;
    a.first_fired_ms = now_ms;
    notify(a, "firing");
  }

  for (auto& [k, a0] : open) {
    if (present.count(k)) continue;
    if (ev.unknown_agents.count(a0.key.agent)) continue;
    if (ev.stale_agents.count(a0.key.agent) && a0.key.rule != kAgentOffline) continue;
    Alert a = a0;
    a.firing = false;
    a.resolved_ms = now_ms;
    const bool owed = a.notified_open;
    a.notified_open = false;
    if (owed)
      changes.push_back(Change{a, "resolved", targets(a.key, a.severity)});
    else
      changes.push_back(Change{a, "", {}});
  }
  // A pending key that stopped holding starts over next time.
  for (auto it = pending_.begin(); it != pending_.end();)
    it = present.count(it->first) ? std::next(it) : pending_.erase(it);

  if (auto s = store_.apply(changes, now_ms); !s) return std::move(s).error();
  return changes;
}

}  // namespace lightbox::hub::alerts
