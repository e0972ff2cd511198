#pragma once
// The alert state machine. Per key: a condition must hold for `for_seconds` (pending, in memory)
// before the alert fires; a firing alert re-notifies every `repeat_minutes` until acked; when the
// condition clears it resolves and a recovery is owed if anyone was told it fired; a key that
// fires again within `flap_seconds` of resolving reopens the same alert silently and counts a
// flap. Every change and the notifications it owes are committed together (AlertStore::apply).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/error/result.hpp"
#include "hub/alerts/config.hpp"
#include "hub/alerts/rules.hpp"
#include "hub/alerts/store.hpp"

namespace lightbox::hub::alerts {

/// Applies evaluations to the stored alerts. One per hub; used by the evaluator thread only.
class Engine {
 public:
  Engine(const AlertsConfig& cfg, AlertStore& store) : cfg_(cfg), store_(store) {}

  /// One step at `now_ms`: fires, repeats, resolves and reopens; returns what was committed.
  Result<std::vector<Change>> step(const Evaluation& ev, std::int64_t now_ms);

  /// The (channel, recipient) pairs an alert of `key`/`severity` is sent to.
  std::vector<std::pair<std::string, std::string>> targets(const AlertKey& key, Severity s) const;

 private:
  const RuleConfig& rule(const std::string& name) const;

  const AlertsConfig& cfg_;
  AlertStore& store_;
  std::map<std::string, std::int64_t> pending_;  // key -> first seen (ms), not yet firing
};

}  // namespace lightbox::hub::alerts
