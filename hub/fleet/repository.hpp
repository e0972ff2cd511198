#pragma once
// Heartbeats in the hub's index.db: one row per beat (the latest is the newest row), pruned to
// 7 days. One writer connection behind a mutex: a beat every 30 s per agent is light work.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/error/result.hpp"
#include "common/sqlite/db.hpp"
#include "hub/fleet/heartbeat.hpp"

namespace lightbox::hub::fleet {

/// How long beats are kept.
constexpr std::int64_t kHistoryMs = 7LL * 24 * 3600 * 1000;

/// An agent registered under an institution, with its newest beats (newest first, up to 3).
struct AgentBeats {
  std::string agent;
  std::string institution;
  std::vector<Beat> recent;
};

/// Stored-object totals for /metrics.
struct StoreTotals {
  std::int64_t objects = 0;
  std::int64_t bytes = 0;
};

/// The fleet tables. Thread-safe.
class FleetRepository {
 public:
  /// Opens `path` (the index.db shared with the other repositories), creating the tables.
  static Result<std::unique_ptr<FleetRepository>> open(const std::string& path);

  /// Stores one beat and prunes that agent's beats older than kHistoryMs.
  Status put(const Beat& b);
  /// Every agent of `institution` (all institutions when empty) with its newest beats.
  Result<std::vector<AgentBeats>> agents(const std::string& institution);
  /// One agent of `institution` (not_found otherwise).
  Result<AgentBeats> agent(const std::string& institution, const std::string& agent);
  /// Beats of `agent` received at or after `since_ms`, oldest first.
  Result<std::vector<Beat>> history(const std::string& agent, std::int64_t since_ms);
  /// Objects and bytes in the store's index.
  Result<StoreTotals> store_totals();

 private:
  explicit FleetRepository(sqlite::Db db) : db_(std::move(db)) {}
  Result<std::vector<Beat>> recent_locked(const std::string& agent, int n);

  std::mutex mu_;
  sqlite::Db db_;
};

}  // namespace lightbox::hub::fleet
