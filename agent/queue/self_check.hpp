#pragma once
// Start-up self-check of queue.db: PRAGMA quick_check; a damaged database is set aside
// (queue.db.damaged-<time>, with its -wal/-shm) so a fresh one can be created and rebuilt from
// the spool. The sources' seen-sets live in the same file and are lost with it: the report
// counts how many entries that was, so an operator knows what may be collected again.
#include <cstdint>
#include <string>

namespace lightbox::agent::queue {

/// What the self-check found and did.
struct SelfCheckReport {
  bool damaged = false;
  std::string problem;            // quick_check's (or open's) complaint
  std::string moved_to;           // where the damaged file went
  std::int64_t lost_items = -1;   // item rows readable in the damaged file (-1: unreadable)
  std::int64_t lost_seen = -1;    // seen-set rows readable in the damaged file (-1: unreadable)
  std::int64_t rebuilt = 0;       // filled in by the caller after the rebuild from the spool
  std::int64_t at_ms = 0;

  /// Items that may need re-collection: the seen-set entries lost (the sources will offer those
  /// files again; the hub de-duplicates), or the item rows when the seen-set was unreadable;
  /// -1 when neither could be read (unknown). 0 when the database was not damaged.
  std::int64_t may_need_recollection() const;
};

/// Checks `db_path` (missing = fine). Never throws; when the file cannot even be renamed the
/// report says so in `problem` and `moved_to` stays empty.
SelfCheckReport self_check(const std::string& db_path, std::int64_t now_ms);

}  // namespace lightbox::agent::queue
