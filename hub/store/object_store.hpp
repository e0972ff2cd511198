#pragma once
// The hub's object store seam: content-addressed bytes keyed by their SHA-256 (hex). The ingest
// stage stages each body in a temporary file under staging_dir(); put() makes it durable under
// its hash. Implementations: FsObjectStore (objects/ab/cd/<sha256>) and MemoryObjectStore (tests).
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include "common/error/result.hpp"
#include "common/fsio/atomic_file.hpp"

namespace lightbox::hub::store {

/// Bytes of one stored object: either a local file to stream from, or the bytes themselves.
struct Blob {
  std::string file_path;  // non-empty when the bytes live in a local file
  std::string bytes;      // the bytes when file_path is empty
  std::uint64_t size = 0;
};

/// Content-addressed storage. Thread-safe. Owns the bytes; the index decides what is visible.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  /// Directory where callers create fsio::AtomicFile temporaries for put() (same filesystem).
  virtual std::string staging_dir() const = 0;
  /// Makes `staged` durable as object `sha256` (fsync, rename, fsync dir). When the object
  /// already exists with the same size the temporary is dropped. Idempotent.
  virtual Status put(const std::string& sha256, fsio::AtomicFile&& staged) = 0;
  /// Size of the object, or not_found.
  virtual Result<std::uint64_t> size(const std::string& sha256) const = 0;
  /// Opens the object for reading, or not_found.
  virtual Result<Blob> open(const std::string& sha256) const = 0;
  /// Deletes the object (scrub/repair and tests); not_found when absent.
  virtual Status remove(const std::string& sha256) = 0;
};

/// Stores objects as files <root>/objects/ab/cd/<sha256>; temporaries live in <root>/tmp.
class FsObjectStore final : public ObjectStore {
 public:
  /// Creates the directories and sweeps temporaries a crash may have left in <root>/tmp.
  static Result<std::unique_ptr<FsObjectStore>> open_at(const std::string& root);

  std::string staging_dir() const override { return tmp_dir_; }
  Status put(const std::string& sha256, fsio::AtomicFile&& staged) override;
  Result<std::uint64_t> size(const std::string& sha256) const override;
  Result<Blob> open(const std::string& sha256) const override;
  Status remove(const std::string& sha256) override;

  /// Path where object `sha256` lives (whether or not it exists).
  std::string object_path(const std::string& sha256) const;
  /// How many temporaries open_at() removed.
  std::size_t swept() const { return swept_; }

 private:
  FsObjectStore(std::string root, std::string tmp_dir, std::size_t swept)
      : objects_dir_(std::move(root)), tmp_dir_(std::move(tmp_dir)), swept_(swept) {}
  Status ensure_dir(const std::string& dir);

  std::string objects_dir_;
  std::string tmp_dir_;
  std::size_t swept_ = 0;
  std::mutex dirs_mu_;
  std::unordered_set<std::string> durable_dirs_;  // fan-out directories known to be durable
};

/// Keeps objects in memory; staged temporaries go to `staging_dir` on disk. For tests.
class MemoryObjectStore final : public ObjectStore {
 public:
  explicit MemoryObjectStore(std::string staging_dir);
  ~MemoryObjectStore() override;

  std::string staging_dir() const override { return staging_dir_; }
  Status put(const std::string& sha256, fsio::AtomicFile&& staged) override;
  Result<std::uint64_t> size(const std::string& sha256) const override;
  Result<Blob> open(const std::string& sha256) const override;
  Status remove(const std::string& sha256) override;
  /// Number of objects held.
  std::size_t count() const;

 private:
  struct State;
  std::string staging_dir_;
  std::unique_ptr<State> state_;
};

}  // namespace lightbox::hub::store
