#pragma once
// What every source has already collected (the seen-set) and how its last scan went. Lives in
// the agent's queue.db next to the queue, so `status` reads one file.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/sources/source.hpp"
#include "common/sqlite/db.hpp"

namespace lightbox::agent::sources {

/// Size and mtime of a file when it was collected, and its content hash.
struct SeenEntry {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::string sha256;
};

/// Last scan of one source, for `status`.
struct SourceState {
  std::string name;
  std::string kind;
  std::int64_t last_scan_at_ms = 0;  // 0 = never
  std::string last_error;
  std::int64_t poll_seconds = 0;
  std::string watermark;             // a source's persisted cursor, shown by `status` (may be empty)
};

/// The persisted seen-set. Owns its own connection; use from one thread.
class SeenStore {
 public:
  static Result<SeenStore> open(const std::string& db_path);

  /// Every file of `source` collected so far, keyed by relative path.
  Result<std::map<std::string, SeenEntry>> load(const std::string& source);
  /// One entry of `source`, if it was collected (a point lookup: sources with many entries
  /// need not load them all).
  Result<std::optional<SeenEntry>> find(const std::string& source, const std::string& rel_path);
  /// Records a batch in one transaction.
  Status put(const std::vector<Collected>& batch);
  /// Remembers the outcome of a scan (the watermark column is left as it is).
  Status record_scan(const SourceState& s);
  /// Persists a source's cursor (for example a view's (timestamp, key) watermark, as JSON text).
  Status save_watermark(const std::string& source, const std::string& kind, const std::string& watermark);
  /// The cursor saved last, or empty when none was saved.
  Result<std::string> load_watermark(const std::string& source);

  /// Reads every source's last scan from an open (possibly read-only) queue.db.
  static Result<std::vector<SourceState>> read_states(sqlite::Db& db);

 private:
  explicit SeenStore(sqlite::Db db) : db_(std::move(db)) {}
  sqlite::Db db_;
};

}  // namespace lightbox::agent::sources
