#pragma once
// The `view` source: SQL views of the RIS/PACS database over ODBC, read-only and incremental on
// a (timestamp, key) watermark with a look-back window. Rows become canonical records, written
// as JSON batch files into staging; the intake queues them like files (kind "records").
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/sources/seen_store.hpp"
#include "agent/sources/source.hpp"
#include "agent/sources/view/view_config.hpp"
#include "common/log/logger.hpp"

namespace lightbox::agent::sources::view {

/// Counts of the last scan, for logs and tests.
struct ScanCounts {
  std::int64_t rows = 0;        // rows read from the view
  std::int64_t unchanged = 0;   // same key and content hash as already collected
  std::int64_t records = 0;     // new or changed records written to batches
  std::int64_t skipped = 0;     // rows without a key or version
};

/// Reads one view. Connects anew on each scan, so a database restart costs one failed poll.
/// Dedupe state lives in the SeenStore (rel_path "<record_kind>/<key>", sha256 = record hash);
/// the watermark advances only over rows whose batches are in the queue.
class ViewSource final : public Source {
 public:
  ViewSource(ViewConfig cfg, SeenStore& seen, std::string staging_dir, log::Logger& log);

  const std::string& name() const override { return cfg_.name; }
  std::string_view kind() const override { return "view"; }
  std::int64_t poll_seconds() const override { return cfg_.poll_seconds; }
  std::int64_t stable_seconds() const override { return 0; }
  Result<std::string> check() override;
  Result<std::vector<Candidate>> scan() override;
  /// 1 while a poll stopped at max_records_per_poll: more rows wait for the next poll.
  std::size_t pending() const override { return capped_ ? 1 : 0; }
  Status mark_collected(const std::vector<Collected>& batch) override;
  Status after_upload(const std::string&, std::uint64_t) override { return {}; }

  const ScanCounts& last_counts() const { return counts_; }
  /// The watermark persisted so far (nullopt before the first collected poll).
  const std::optional<Watermark>& watermark() const { return saved_; }

 private:
  struct Batch {
    std::string rel_path;
    std::string abs_path;
    Watermark upto;  // the last row read up to and including this batch
    bool collected = false;
  };

  Status load_watermark();
  Result<Candidate> write_batch(const std::vector<nlohmann::json>& records, const Watermark& upto);
  Status advance();
  void clear_staging();

  ViewConfig cfg_;
  SeenStore& seen_;
  std::string staging_dir_;
  log::Logger& log_;
  bool loaded_ = false;
  std::optional<Watermark> saved_;
  std::vector<Batch> batches_;       // of the current scan, in row order
  std::optional<Watermark> tail_;    // after the last row of the current scan
  std::int64_t seq_ = 0;
  bool capped_ = false;
  ScanCounts counts_;
};

}  // namespace lightbox::agent::sources::view
