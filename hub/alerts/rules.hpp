#pragma once
// The alert rules: from a snapshot of the fleet (newest beats per agent, error totals over the
// error-rate window) and per-institution daily upload counts, the conditions that hold now.
// Pure; no I/O, no clock. Quality-score drop has no rule yet: the hub has no audit scores.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "hub/alerts/alert.hpp"
#include "hub/alerts/config.hpp"
#include "hub/fleet/repository.hpp"

namespace lightbox::hub::alerts {

/// An agent's totals over the error-rate window.
struct WindowTotals {
  std::int64_t errors = 0;
  std::int64_t uploaded_items = 0;
};

/// Local date ("YYYY-MM-DD" at utc_offset_minutes) -> items received (objects + records).
using DailyCounts = std::map<std::string, std::int64_t>;

/// What the evaluator reads before running the rules.
struct Snapshot {
  std::vector<fleet::AgentBeats> agents;        // every unrevoked agent, newest beats first
  std::map<std::string, WindowTotals> windows;  // agent -> error-rate window totals
  std::map<std::string, DailyCounts> uploads;   // institution -> daily counts (absence rule)
  std::int64_t started_ms = 0;                  // hub start: beats from before it are not news
};

/// The rules' verdict: conditions that hold, and agents whose other alerts must stay as they are
/// (neither fire nor resolve) because what is known about them is stale.
struct Evaluation {
  std::vector<Condition> conditions;
  std::set<std::string> stale_agents;    // offline: only agent_offline may change
  std::set<std::string> unknown_agents;  // silent since the hub started, not yet offline: nothing may change
};

/// Every condition that holds at `now_ms` under `cfg`'s enabled rules.
Evaluation evaluate_rules(const AlertsConfig& cfg, const Snapshot& snap, std::int64_t now_ms);

/// Days since 1970-01-01 of local time `now_ms` at `utc_offset_minutes`.
std::int64_t local_day(std::int64_t now_ms, std::int64_t utc_offset_minutes);
/// "YYYY-MM-DD" of a day number from local_day.
std::string day_string(std::int64_t day);
/// 0 = Sunday .. 6 = Saturday of a day number from local_day.
int weekday(std::int64_t day);

}  // namespace lightbox::hub::alerts
