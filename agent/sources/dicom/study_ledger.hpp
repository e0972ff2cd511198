#pragma once
// Completeness bookkeeping for query/retrieve: which studies found by C-FIND still need a
// retrieve, how many times each was tried, and what is reported when a gap stays. Pure logic:
// the source feeds it counts; it persists as JSON in the source's watermark.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lightbox::agent::sources::dicom {

/// One study line of a C-FIND answer.
struct FoundStudy {
  std::string study_uid;
  std::int64_t expected = -1;  // NumberOfStudyRelatedInstances; -1 when the PACS did not say
};

/// What the ledger knows about one study of the window.
struct StudyProgress {
  std::int64_t expected = -1;      // the PACS's count (C-FIND), or the retrieve's sub-operation total
  std::int64_t ris_expected = -1;  // the RIS exam's expected count, when a view provides it
  std::int64_t have = 0;           // distinct instances received so far (collected or staged)
  std::int64_t attempts = 0;       // retrieves that ended incomplete
  bool complete = false;
  bool gave_up = false;              // max_retries reached: reported, not retried until the count changes
  bool count_from_retrieve = false;  // no count in C-FIND: `expected` came from a retrieve
};

/// Counts of instances this agent holds for a study (collected or staged).
using HaveCount = std::function<std::int64_t(const std::string& study_uid)>;
/// Expected count from the RIS (a `view` source), or -1 when unknown. The hook for issue 3's
/// "and the RIS exam's expected count when a view provides it".
using RisExpected = std::function<std::int64_t(const std::string& study_uid)>;

/// The studies of the current window and their completeness. Use from one thread.
class StudyLedger {
 public:
  explicit StudyLedger(std::int64_t max_retries) : max_retries_(max_retries) {}

  /// Takes a fresh C-FIND answer: forgets studies that left the window, updates counts, and
  /// returns the study UIDs to retrieve now (new, grown, or incomplete and still retried).
  std::vector<std::string> plan(const std::vector<FoundStudy>& found, const HaveCount& have,
                                const RisExpected& ris = {});
  /// Records a finished retrieve: `have` after it, and the PACS's sub-operation total
  /// (completed + failed + warning, -1 if unknown); `ok` is false when the retrieve itself
  /// failed (network, refused). Returns true when the study is complete.
  bool record_retrieve(const std::string& study_uid, std::int64_t have, std::int64_t reported_total,
                       bool ok = true);

  /// The study's state, or nullptr.
  const StudyProgress* find(const std::string& study_uid) const;
  /// Studies that are not complete (being retried or given up).
  std::vector<std::string> gaps() const;
  /// One sentence per gap ("study 1.2.3: 18 of 20 instances after 3 retrieves").
  std::vector<std::string> gap_sentences() const;

  /// Watermark JSON: incomplete studies with counts (complete ones only as a number).
  nlohmann::json to_json() const;
  /// Restores retry counters saved by to_json (unknown or malformed content is ignored).
  void restore(const nlohmann::json& j);
  /// {"study_uid": count} of complete studies whose count came from a retrieve (the PACS's C-FIND
  /// has none): kept across restarts so such studies are not retrieved again after each start.
  nlohmann::json retrieve_counts() const;
  /// Restores what retrieve_counts() saved.
  void restore_retrieve_counts(const nlohmann::json& j);

 private:
  static std::int64_t target(const StudyProgress& p);

  std::int64_t max_retries_;
  std::map<std::string, StudyProgress> studies_;
};

}  // namespace lightbox::agent::sources::dicom
