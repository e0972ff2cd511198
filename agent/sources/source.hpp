#pragma once
// The first stage: where files come from. One small interface, one file per kind.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error/result.hpp"

namespace lightbox::agent::sources {

/// Milliseconds on a monotonic clock; injected so tests can move time without sleeping.
using MonotonicMs = std::function<std::int64_t()>;
/// The real monotonic clock.
std::int64_t steady_now_ms();

/// A file a source found stable and not yet collected.
struct Candidate {
  std::string source;     // source name from the config
  std::string rel_path;   // path relative to the source root, '/'-separated
  std::string abs_path;   // where to read it now
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  /// "" = decide by content (DICOM, or an allowed attachment); "records" = a JSON batch of
  /// canonical records written by a `view` source.
  std::string kind_hint;
};

/// A candidate that is now safely in the queue, with the hash of its bytes.
struct Collected {
  Candidate candidate;
  std::string sha256;
};

/// One place files are collected from. Owned by the composition root; scan/mark_collected
/// are called from one thread, after_upload may be called from any uploader thread.
class Source {
 public:
  virtual ~Source() = default;
  /// Name from the config ("ct").
  virtual const std::string& name() const = 0;
  /// Kind word ("folder").
  virtual std::string_view kind() const = 0;
  /// Seconds between scans in `run`.
  virtual std::int64_t poll_seconds() const = 0;
  /// Seconds a file must stay unchanged before it is collected (how long `run --once` waits).
  virtual std::int64_t stable_seconds() const = 0;
  /// For `check`: reachability and credentials, as one sentence in plain words. An error value
  /// says what is wrong ("folder /x does not exist", "password rejected by ftp://...").
  virtual Result<std::string> check() = 0;
  /// One pass: returns files that are stable now and were never collected before.
  virtual Result<std::vector<Candidate>> scan() = 0;
  /// Files seen but not yet stable (still being written or waiting out stable_seconds).
  virtual std::size_t pending() const = 0;
  /// Persists that these files are in the queue, so a restart neither misses nor re-sends them.
  virtual Status mark_collected(const std::vector<Collected>& batch) = 0;
  /// Applies keep/delete/move to a file once the hub has given its receipt for it.
  virtual Status after_upload(const std::string& rel_path, std::uint64_t size) = 0;
};

}  // namespace lightbox::agent::sources
