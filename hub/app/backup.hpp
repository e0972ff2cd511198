#pragma once
// Hub backup and restore. A backup is itself a hub data directory: index.db (an online SQLite
// snapshot), objects/ (every object that snapshot references, hash-checked while copied) and
// the small state directories (ca/). Objects are content-addressed and never change, so a
// second backup into the same directory copies only what is new.
#include <cstdint>
#include <string>
#include <vector>

#include "common/error/result.hpp"

namespace lightbox::hub::app {

/// What one backup or restore did.
struct CopyReport {
  std::int64_t objects = 0;          // objects the index references
  std::int64_t copied = 0;           // copied now
  std::int64_t already_present = 0;  // found in the destination with the right size
  std::int64_t bytes_copied = 0;
  std::vector<std::string> damaged;  // "<sha256>: <why>" (missing, wrong size, wrong hash)
  std::int64_t state_files = 0;      // files copied from ca/ and other state directories

  /// True when every referenced object reached the destination intact.
  bool complete() const { return damaged.empty(); }
};

/// Copies a consistent snapshot of `data_dir` (a running hub's too) into `dest_dir`.
/// `dest_dir` may hold an earlier backup: it is brought up to date.
Result<CopyReport> backup_data_dir(const std::string& data_dir, const std::string& dest_dir);

/// Copies the backup in `backup_dir` into `data_dir`, checking every object's hash. Refuses a
/// `data_dir` that already has an index.db unless `force`. The hub must be stopped.
Result<CopyReport> restore_data_dir(const std::string& backup_dir, const std::string& data_dir, bool force);

/// The report as JSON text (one line) for the CLI.
std::string report_json(const CopyReport& r, const std::string& from, const std::string& to);

}  // namespace lightbox::hub::app
