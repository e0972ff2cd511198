#pragma once
// The spool: files waiting for upload, named by their SHA-256 (data_dir/spool/<sha256>), and the
// quarantine beside it (data_dir/quarantine/<sha256> + <sha256>.json with the reason).
#include <string>
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

  const std::string& spool_dir() const { return spool_dir_; }
  const std::string& quarantine_dir() const { return quarantine_dir_; }

 private:
  std::string spool_dir_;
  std::string quarantine_dir_;
};

}  // namespace lightbox::agent::queue
