#pragma once
// Alerts and their delivery outbox in the hub's index.db, so both survive a restart: an alert's
// state change and the notifications it owes are committed in one transaction, and a
// notification leaves the outbox only when a channel accepted it (or retries ran out).
// Also reads what the rules need from the other tables (beats, uploads per day). Thread-safe:
// one connection behind a mutex.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error/result.hpp"
#include "common/sqlite/db.hpp"
#include "hub/alerts/alert.hpp"
#include "hub/alerts/rules.hpp"

namespace lightbox::hub::alerts {

/// One notification owed to one channel (and, for SMS, one recipient).
struct OutboxItem {
  std::int64_t id = 0;
  std::int64_t alert_id = 0;
  std::string channel;
  std::string recipient;  // "" except for SMS
  std::string event;      // firing | repeat | resolved
  nlohmann::json alert;   // the alert as it was when the event happened
  std::int64_t attempts = 0;
  std::int64_t created_ms = 0;
};

/// An alert's new state plus the notifications that change owes, committed together.
struct Change {
  Alert alert;                                               // id 0 = a new alert row
  std::string event;                                         // "" = no notification
  std::vector<std::pair<std::string, std::string>> targets;  // (channel, recipient) to notify
};

/// Outbox rows by (channel, state), for tests and the operator.
struct OutboxCount {
  std::string channel;
  std::string state;
  std::int64_t count = 0;
};

/// The alert tables. Thread-safe.
class AlertStore {
 public:
  /// Opens `path` (index.db), creating the alert tables.
  static Result<std::unique_ptr<AlertStore>> open(const std::string& path);

  /// Alerts currently firing.
  Result<std::vector<Alert>> firing();
  /// The newest alert of each key resolved at or after `since_ms` (flap candidates).
  Result<std::vector<Alert>> resolved_since(std::int64_t since_ms);
  /// Commits every change (alert rows + outbox rows) in one transaction; new rows get their ids.
  Status apply(std::vector<Change>& changes, std::int64_t now_ms);

  /// Firing alerts (newest first) and, when `with_history`, resolved ones too, up to `limit` each.
  Result<std::vector<Alert>> list(bool firing, std::int64_t limit);
  /// One alert, or not_found.
  Result<Alert> get(std::int64_t id);
  /// Marks the alert acknowledged by `who` (stops repeats); not_found when unknown.
  Result<Alert> ack(std::int64_t id, const std::string& who, const std::string& note, std::int64_t now_ms);

  /// Up to `limit` pending items of `channel` due at `now_ms`, oldest first, at most one per
  /// (alert, recipient) so a recovery never overtakes its firing message.
  Result<std::vector<OutboxItem>> due(const std::string& channel, std::int64_t now_ms, int limit);
  /// The earliest next attempt among pending items of `channel`, if any.
  Result<std::optional<std::int64_t>> next_due(const std::string& channel);
  /// Delivered.
  Status mark_sent(std::int64_t id, std::int64_t now_ms);
  /// Failed this time; try again at `next_ms`.
  Status mark_retry(std::int64_t id, std::int64_t next_ms, const std::string& error);
  /// Given up (or the channel is gone from the config).
  Status mark_failed(std::int64_t id, std::int64_t now_ms, const std::string& error);
  /// Removes delivered or given-up outbox rows finished before `outbox_before_ms` and resolved
  /// alerts (with nothing left to send) resolved before `alerts_before_ms`.
  Status prune(std::int64_t outbox_before_ms, std::int64_t alerts_before_ms);
  /// Gives up every pending item of a channel that is not in `configured` (removed from the
  /// config); returns how many.
  Result<std::int64_t> drop_unconfigured(const std::vector<std::string>& configured, std::int64_t now_ms);
  /// Outbox rows by channel and state.
  Result<std::vector<OutboxCount>> outbox_counts();

  /// Each agent's errors and uploaded items over beats received at or after `since_ms`.
  Result<std::map<std::string, WindowTotals>> window_totals(std::int64_t since_ms);
  /// Institutions that received anything (an object or a record) in [from_ms, to_ms). One
  /// index probe per institution and table, so it stays cheap on a large index.
  Result<std::set<std::string>> institutions_sent(std::int64_t from_ms, std::int64_t to_ms);

 private:
  explicit AlertStore(sqlite::Db db) : db_(std::move(db)) {}
  Result<std::vector<Alert>> query_alerts(const std::string& where, std::int64_t arg, std::int64_t limit);

  std::mutex mu_;
  sqlite::Db db_;
};

}  // namespace lightbox::hub::alerts
