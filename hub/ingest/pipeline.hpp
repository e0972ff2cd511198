#pragma once
// Stage: ingest. One PUT object body flows through here: streamed to a temporary file while
// hashed, compared with its name, checked (DICOM: dicom::verify_file with allow_lossy=true),
// stored (fsync + rename), indexed (one transaction), and answered with a durable receipt.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/error/result.hpp"
#include "common/fsio/atomic_file.hpp"
#include "common/hash/sha256.hpp"
#include "common/log/logger.hpp"
#include "common/wire/protocol.hpp"
#include "hub/index/repository.hpp"
#include "hub/store/object_store.hpp"

namespace lightbox::hub::ingest {

/// One object an authenticated agent wants to store.
struct PutRequest {
  std::string sha256;  // the name the body must hash to (already validated by the router)
  wire::ObjectKind kind = wire::ObjectKind::dicom;
  std::string content_type;  // as sent; DICOM objects are always application/dicom
  std::string filename;
  std::string source;
  std::string institution;
  std::string agent;
};

class Pipeline;

/// One body being received. Feed it with write() and end with finish(); dropping it without
/// finish() discards the temporary.
class Upload {
 public:
  /// Appends a chunk: hashes it and writes it to the temporary (ENOSPC -> storage_full).
  Status write(const void* data, std::size_t n);
  Status write(std::string_view s) { return write(s.data(), s.size()); }
  /// Checks, stores and indexes; the receipt is returned only after the index committed.
  Result<wire::Receipt> finish();
  std::uint64_t received() const { return file_.size(); }

 private:
  friend class Pipeline;
  Upload(Pipeline& p, PutRequest req, fsio::AtomicFile file)
      : pipeline_(p), req_(std::move(req)), file_(std::move(file)) {}
  Result<wire::Receipt> finish_checked();

  Pipeline& pipeline_;
  PutRequest req_;
  fsio::AtomicFile file_;
  hash::Sha256 hash_;
  Status failed_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

/// Builds Uploads over one store and one index. Thread-safe; owns neither.
class Pipeline {
 public:
  Pipeline(store::ObjectStore& store, index::Repository& repo, log::Logger& log, std::uint64_t max_body_bytes)
      : store_(store), repo_(repo), log_(log), max_body_bytes_(max_body_bytes) {}

  /// Opens a temporary in the store's staging directory for one body.
  Result<std::unique_ptr<Upload>> begin(PutRequest req);
  /// Whole-body convenience (tests, small bodies): begin + write + finish.
  Result<wire::Receipt> put(PutRequest req, std::string_view body);
  std::uint64_t max_body_bytes() const { return max_body_bytes_; }

 private:
  friend class Upload;
  store::ObjectStore& store_;
  index::Repository& repo_;
  log::Logger& log_;
  std::uint64_t max_body_bytes_;
};

}  // namespace lightbox::hub::ingest
