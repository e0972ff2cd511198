#pragma once
// The records stage of the hub: takes a POSTed batch (hash check, parse, per-record validation,
// one durable commit) and answers the read endpoints (versions, exams assembled with their
// order / report / QC / linked study, collection tasks) as JSON. No HTTP types here: hub/http
// routes requests to it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error/result.hpp"
#include "common/log/logger.hpp"
#include "common/wire/records.hpp"
#include "hub/index/record_repository.hpp"

namespace lightbox::hub::records {

/// Largest records batch body the hub accepts (bytes); the wire contract's limit.
inline constexpr std::uint64_t kMaxBatchBytes = wire::kMaxRecordsBatchBytes;

/// Who sent a batch (from the credential, never from the body).
struct Submitter {
  std::string institution;
  std::string agent;
};

/// Records ingest and queries. Thread-safe; owns none of its collaborators.
class RecordService {
 public:
  RecordService(index::RecordRepository& repo, log::Logger& log) : repo_(repo), log_(log) {}

  /// Stores a batch: 400 hash_mismatch when `body` does not hash to `claimed_sha256`, 400 when the
  /// body is not {"records":[...]}; otherwise every valid record is committed before the answer
  /// and each invalid one is listed in `rejected` with its reason.
  Result<wire::BatchAnswer> ingest(const Submitter& who, std::string_view body,
                                   std::string_view claimed_sha256);

  /// {"kind","key","versions":[record...]} newest first; not_found when none.
  Result<nlohmann::json> versions(const std::string& institution, const std::string& kind,
                                  const std::string& key);
  /// The current exam with its order, report, qc, RIS-PACS links and linked stored studies.
  Result<nlohmann::json> exam(const std::string& institution, const std::string& key);
  /// {"exams":[record...]}: current exams, of one patient when `patient_id` is not empty.
  Result<nlohmann::json> list_exams(const std::string& institution, const std::string& patient_id,
                                    std::int64_t limit, std::int64_t offset);
  /// {"tasks":[record...]}: collection tasks, of one source when `source` is not empty.
  Result<nlohmann::json> list_tasks(const std::string& institution, const std::string& source,
                                    std::int64_t limit, std::int64_t offset);

 private:
  Result<std::optional<index::StoredRecord>> first_current(const std::string& institution,
                                                           const std::string& kind, index::LinkField by,
                                                           const std::string& value);
  /// Current records of `kind`, filtered by `by` = `value` unless `value` is empty, as {key: [...]}.
  Result<nlohmann::json> list_current(const std::string& institution, const std::string& kind, index::LinkField by,
                                      const std::string& value, std::int64_t limit, std::int64_t offset,
                                      const char* key);

  index::RecordRepository& repo_;
  log::Logger& log_;
};

/// {"kind","key","version","fields","received_at","agent","current"}.
nlohmann::json to_json(const index::StoredRecord& r);
/// {"study_uid","accession_number","patient_id","patient_name","study_date","modalities","series_count","instance_count"}.
nlohmann::json study_json(const index::StudySummary& s);

}  // namespace lightbox::hub::records
