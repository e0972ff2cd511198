#pragma once
// The spool: files waiting for upload, named by their SHA-256 (data_dir/spool/<sha256>), and the
// quarantine beside it (data_dir/quarantine/<sha256> + <sha256>.json with the reason).
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/fsio/atomic_file.hpp"

namespace lightbox::agent::queue {

/// Why a file was quarantined; written as quarantine/<sha256>.json.
struct QuarantineNote {
  std::string source;
  std::string path;         // relative path at the source
  std::string reason_code;
  std::string reason;
  std::int64_t at_ms = 0;   // unix ms
};

/// The two directories. Operations are single renames/unlinks, safe from several threads.
class Spool {
 public:
  explicit Spool(const std::string& data_dir);

  /// Creates the directories.
  Status prepare() const;
  /// Deletes temporaries a crash left behind; returns how many.
  std::size_t sweep_temporaries() const;
  /// Copies `src` in while hashing (temp + fsync + rename to spool/<sha256>).
  Result<fsio::CopyResult> admit(const std::string& src) const;
  /// Path of a spooled file.
  std::string path(const std::string& sha256) const { return spool_dir_ + "/" + sha256; }
  /// Moves spool/<sha256> to quarantine/<sha256> and writes the note beside it.
  Status quarantine(const std::string& sha256, const QuarantineNote& note) const;
  /// Moves a quarantined file back into the spool (requeue) and drops its note.
  Status restore(const std::string& sha256) const;
  /// Deletes spool/<sha256> (after the hub's receipt). Missing is fine.
  Status remove(const std::string& sha256) const;
  /// Every complete spool file (64-hex names), sorted.
  std::vector<std::string> list() const;
  /// Every quarantined file (64-hex name) with its note (empty fields if the note is unreadable).
  std::vector<std::pair<std::string, QuarantineNote>> quarantined() const;

  const std::string& spool_dir() const { return spool_dir_; }
  const std::string& quarantine_dir() const { return quarantine_dir_; }

  /// Test seam (fail_count loop): asked before each filesystem step ("admit", "quarantine",
  /// "restore", "remove"); an error fails that step before it starts, as a crash there would.
  using FaultHook = std::function<Status(std::string_view step)>;
  void set_fault_hook(FaultHook hook) { fault_ = std::move(hook); }

 private:
  Status fault(std::string_view step) const { return fault_ ? fault_(step) : Status{}; }

  std::string spool_dir_;
  std::string quarantine_dir_;
  FaultHook fault_;
};

}  // namespace lightbox::agent::queue
