#pragma once
// What the running agent counts in memory (uploads, errors, latency, scans, reloads) and the
// Prometheus text rendering of those counters together with one reading of queue.db.
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "agent/report/status.hpp"

namespace lightbox::agent::metrics {

/// Upper bounds (seconds) of the upload latency histogram buckets; +Inf is implied.
inline constexpr std::array<double, 14> kUploadBuckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                          2.5,  5,     10,   30,  60,   120, 300};

/// A cumulative histogram over kUploadBuckets. Not thread-safe on its own (AgentMetrics locks).
struct Histogram {
  std::array<std::int64_t, kUploadBuckets.size() + 1> counts{};  // per bucket, last = +Inf (not cumulative)
  double sum = 0;
  std::int64_t count = 0;
  /// Adds one observation.
  void observe(double seconds);
};

/// How one upload attempt ended, as the metrics see it.
struct Attempt {
  std::string_view kind;        // "dicom", "records", ...
  std::int64_t bytes = 0;       // the item's size
  double seconds = 0;           // wall time of the transfer
  bool delivered = false;       // the hub has it (uploaded or already stored)
  bool already_stored = false;
  std::string_view error_code;  // empty when delivered; "cancelled" is not counted as an error
};

/// In-memory counters of one agent process (they survive reloads). Thread-safe.
class AgentMetrics {
 public:
  explicit AgentMetrics(std::int64_t start_unix_ms) : start_ms_(start_unix_ms) {}

  /// One upload attempt settled (called from uploader workers).
  void record_attempt(const Attempt& a);
  /// One scan of `source` finished at `unix_ms`, with or without an error.
  void record_scan(const std::string& source, bool ok, std::int64_t unix_ms);
  /// After a reload: forgets the in-process source series of sources no longer configured.
  void keep_sources(const std::vector<std::string>& names);
  /// A SIGHUP / PARAMCHANGE reload was applied (`ok`) or refused.
  void record_reload(bool ok, std::int64_t unix_ms);
  /// Items (uploaded + already stored, records excluded) and bytes delivered by this process.
  std::pair<std::int64_t, std::int64_t> delivered_totals() const;

  /// The Prometheus text exposition (format 0.0.4) of these counters and `queue`
  /// (`queue_error` non-empty = queue.db could not be read; its gauges are left out).
  std::string render(const report::Snapshot& queue, const std::string& queue_error) const;

 private:
  struct SourceSeen {
    std::int64_t last_success_ms = 0;  // 0 = none since start
    std::int64_t scan_errors = 0;
    bool up = false;
  };
  mutable std::mutex mu_;
  std::int64_t start_ms_;
  std::int64_t uploaded_ = 0, already_stored_ = 0, records_ = 0, bytes_ = 0, failed_attempts_ = 0;
  std::map<std::string, std::int64_t> errors_;  // upload error code -> attempts
  Histogram latency_;
  std::map<std::string, SourceSeen> sources_;
  std::int64_t reloads_ok_ = 0, reloads_refused_ = 0, last_reload_ms_ = 0;
};

/// A label value escaped for the text format (\\, \", \n).
std::string escape_label(std::string_view v);

}  // namespace lightbox::agent::metrics
