#pragma once
// The index's records seam: canonical records (order, exam, report, ... collection_task) kept per
// institution, every version, with the latest version of each (kind, key) as the current one.
// It lives in the same database as Repository (SqliteRecordRepository opens its own connections
// to the same file) and can read the studies table to join exams to stored images.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error/result.hpp"
#include "common/wire/records.hpp"
#include "hub/index/repository.hpp"

namespace lightbox::hub::index {

/// One stored version of a record.
struct StoredRecord {
  std::string kind;
  std::string key;
  std::string version;
  nlohmann::json fields = nlohmann::json::object();
  std::string received_at;  // when the hub first stored this version
  std::string agent;        // who sent it first
  bool current = false;     // the latest version of (kind, key)
};

/// What put_records decided for one record (the batch is committed before this is returned).
enum class PutOutcome { Stored, AlreadyStored, Conflict };

/// The field of a current record used to find it from another record.
enum class LinkField { patient_id, accession_number, study_uid, exam_key, report_key, source };

/// Filters for listing current records.
struct RecordQuery {
  std::string kind;
  std::optional<LinkField> by;  // filter on this link field
  std::string value;            // ... equal to this
  std::int64_t limit = 100;
  std::int64_t offset = 0;
};

/// Records index. Thread-safe.
class RecordRepository {
 public:
  virtual ~RecordRepository() = default;

  /// Stores each record idempotently by (institution, kind, key, version) in one durable
  /// transaction. The same version with other fields is a Conflict (the first stays). A newer
  /// version becomes current; an older one arriving late is kept but does not.
  virtual Result<std::vector<PutOutcome>> put_records(const std::string& institution,
                                                      const std::string& agent,
                                                      const std::vector<wire::Record>& records) = 0;
  /// Every version of (kind, key), newest first; empty when unknown.
  virtual Result<std::vector<StoredRecord>> versions(const std::string& institution, const std::string& kind,
                                                     const std::string& key) = 0;
  /// The current version of (kind, key), or nullopt.
  virtual Result<std::optional<StoredRecord>> current(const std::string& institution, const std::string& kind,
                                                      const std::string& key) = 0;
  /// Current records of one kind, most recently received first.
  virtual Result<std::vector<StoredRecord>> list_current(const std::string& institution,
                                                         const RecordQuery& q) = 0;
  /// Stored studies of `institution` with one of `study_uids`, or with `accession_number` (when
  /// not empty), newest study date first.
  virtual Result<std::vector<StudySummary>> find_studies(const std::string& institution,
                                                         const std::vector<std::string>& study_uids,
                                                         const std::string& accession_number) = 0;
};

/// SQLite implementation on the hub's index.db (WAL, synchronous=FULL). Batches are serialized on
/// one writer connection, one transaction (one fsync) per batch.
class SqliteRecordRepository final : public RecordRepository {
 public:
  /// Opens `path` (the same file as SqliteRepository), creating the records tables if needed.
  static Result<std::unique_ptr<SqliteRecordRepository>> open(const std::string& path);
  ~SqliteRecordRepository() override;

  Result<std::vector<PutOutcome>> put_records(const std::string& institution, const std::string& agent,
                                              const std::vector<wire::Record>& records) override;
  Result<std::vector<StoredRecord>> versions(const std::string& institution, const std::string& kind,
                                             const std::string& key) override;
  Result<std::optional<StoredRecord>> current(const std::string& institution, const std::string& kind,
                                              const std::string& key) override;
  Result<std::vector<StoredRecord>> list_current(const std::string& institution,
                                                 const RecordQuery& q) override;
  Result<std::vector<StudySummary>> find_studies(const std::string& institution,
                                                 const std::vector<std::string>& study_uids,
                                                 const std::string& accession_number) override;

 private:
  struct Impl;
  explicit SqliteRecordRepository(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lightbox::hub::index
