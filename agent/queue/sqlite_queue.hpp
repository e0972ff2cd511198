#pragma once
// The queue in SQLite (WAL, synchronous=FULL): the `items` table of the agent's queue.db.
#include <memory>
#include <mutex>

#include "agent/queue/queue.hpp"
#include "common/sqlite/db.hpp"

namespace lightbox::agent::queue {

/// Counts per state plus the figures `status` shows.
struct Counts {
  std::int64_t by_state[kStateCount] = {0, 0, 0, 0, 0, 0};          // files/objects
  std::int64_t records_by_state[kStateCount] = {0, 0, 0, 0, 0, 0};  // record batches (kind "records"), kept apart
  std::int64_t backlog_bytes = 0;                 // collected + verified + uploading
  std::optional<std::int64_t> oldest_pending_at;  // created_at of the oldest of those
  std::int64_t uploaded_bytes = 0;                // done
  std::int64_t of(State s) const { return by_state[static_cast<int>(s)]; }
};

/// SQLite implementation of Queue. One connection guarded by a mutex.
class SqliteQueue final : public Queue {
 public:
  /// Opens (creating the schema) and recovers: items left in `uploading` by a crash or stop go
  /// back to `verified` (unless recover=false, for tools run beside a live agent).
  /// `recovered` receives how many.
  static Result<std::unique_ptr<SqliteQueue>> open(const std::string& db_path, std::int64_t* recovered = nullptr,
                                                   bool recover = true);

  Result<std::vector<Inserted>> insert(const std::vector<NewItem>& items, std::int64_t now) override;
  Result<std::optional<Item>> claim(std::int64_t now) override;
  Status settle(std::int64_t id, State from, const Settlement& s, std::int64_t now) override;
  Result<std::optional<std::int64_t>> next_due() override;
  Result<std::vector<Item>> list(State state, std::int64_t limit) override;

  /// Failed -> verified (attempts reset), quarantined -> collected (re-verified by the next run).
  /// Returns how many rows changed.
  Result<std::int64_t> requeue(const std::vector<std::int64_t>& ids, std::int64_t now);
  Result<std::optional<Item>> find(const std::string& sha256) override;
  /// Counts and backlog; also works on a read-only connection via the static overload.
  Result<Counts> counts();
  static Result<Counts> counts(sqlite::Db& db);
  /// Reads items for status: the most recent with an error (not quarantined), and quarantined.
  static Result<std::vector<Item>> recent_errors(sqlite::Db& db, std::int64_t limit);
  static Result<std::vector<Item>> quarantined(sqlite::Db& db, std::int64_t limit);

  explicit SqliteQueue(sqlite::Db db) : db_(std::move(db)) {}

 private:
  std::mutex mu_;
  sqlite::Db db_;
};

}  // namespace lightbox::agent::queue
