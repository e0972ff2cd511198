#pragma once
// The hub's index seam: institutions, agent credentials, objects and who sent them, and the
// DICOM study/series/instance hierarchy each institution has sent. SqliteRepository is the
// embedded implementation (a PostgreSQL one can follow behind the same interface).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/dicom/facts.hpp"
#include "common/error/result.hpp"
#include "common/wire/protocol.hpp"

namespace lightbox::hub::index {

/// A hospital (or other data owner) that agents upload for.
struct Institution {
  std::string id;
  std::string name;
  std::string created_at;
};

/// An agent as the admin CLI lists it (never the token).
struct AgentInfo {
  std::string id;
  std::string institution;
  bool revoked = false;
  std::string created_at;
};

/// What a credential may do: an agent uploads for its institution; ops (city operations team)
/// reads every institution's fleet, stats and alerts but uploads nothing.
enum class Role { agent, ops };

/// "agent" | "ops".
std::string_view to_string(Role r);

/// Who a bearer token belongs to. For Role::ops, `agent` is the operator's name and
/// `institution` is empty (ops sees every institution).
struct Credential {
  std::string agent;
  std::string institution;
  bool revoked = false;
  Role role = Role::agent;
};

/// An operator (ops role) as the admin CLI lists it (never the token).
struct OperatorInfo {
  std::string name;
  bool revoked = false;
  std::string created_at;
};

/// Everything the ingest stage commits for one received object, in one transaction.
struct ObjectRecord {
  std::string sha256;
  std::uint64_t size = 0;
  wire::ObjectKind kind = wire::ObjectKind::dicom;
  std::string content_type;
  std::string filename;
  std::string institution;
  std::string agent;
  std::string source;
  std::optional<dicom::DicomFacts> dicom;  // set for DICOM objects
};

/// What record_object decided: Stored (first time) or AlreadyStored, and when it was first stored.
struct RecordResult {
  wire::StoreOutcome outcome = wire::StoreOutcome::Stored;
  std::string stored_at;
};

/// One indexed object.
struct ObjectInfo {
  std::string sha256;
  std::uint64_t size = 0;
  wire::ObjectKind kind = wire::ObjectKind::dicom;
  std::string content_type;
  std::string filename;
  std::string stored_at;
};

/// Filters for listing studies.
struct StudyQuery {
  std::string patient_id;  // empty = any
  std::int64_t limit = 100;
  std::int64_t offset = 0;
};

/// A study with its counts, as listed.
struct StudySummary {
  std::string study_uid;
  std::string patient_id;
  std::string patient_name;
  std::string study_date;
  std::string accession_number;
  std::vector<std::string> modalities;
  std::int64_t series_count = 0;
  std::int64_t instance_count = 0;
  std::string institution;
};

/// One instance of a series.
struct InstanceInfo {
  std::string sop_instance_uid;
  std::string sop_class_uid;
  std::int64_t instance_number = 0;
  std::string sha256;
  std::uint64_t size = 0;
  std::string transfer_syntax_uid;
};

/// One series with its instances.
struct SeriesDetail {
  std::string series_uid;
  std::string modality;
  std::int64_t series_number = 0;
  std::string description;
  std::vector<InstanceInfo> instances;
};

/// A study with its series and instances.
struct StudyDetail {
  StudySummary study;
  std::vector<SeriesDetail> series;
};

/// The index. Thread-safe; many readers, one writer.
class Repository {
 public:
  virtual ~Repository() = default;

  /// Creates the institution or, when it exists, returns it unchanged (idempotent).
  virtual Result<Institution> create_institution(const std::string& id, const std::string& name) = 0;
  /// Registers `agent` under `institution` with the SHA-256 of its token. An existing agent of the
  /// same institution gets the new token and is un-revoked; of another institution: conflict.
  virtual Status put_agent(const std::string& institution, const std::string& agent,
                           const std::string& token_sha256) = 0;
  /// Marks the agent's credential revoked; not_found when unknown.
  virtual Status revoke_agent(const std::string& agent) = 0;
  /// Every agent, ordered by id.
  virtual Result<std::vector<AgentInfo>> list_agents() = 0;
  /// The credential whose token hashes to `token_sha256` (agent or operator), or not_found.
  virtual Result<Credential> find_credential(const std::string& token_sha256) = 0;
  /// Registers operator `name` (ops role) with the SHA-256 of its token; an existing operator gets
  /// the new token and is un-revoked.
  virtual Status put_operator(const std::string& name, const std::string& token_sha256) = 0;
  /// Marks the operator's token revoked; not_found when unknown.
  virtual Status revoke_operator(const std::string& name) = 0;
  /// Every operator, ordered by name.
  virtual Result<std::vector<OperatorInfo>> list_operators() = 0;
  /// Every institution, ordered by id.
  virtual Result<std::vector<Institution>> list_institutions() = 0;

  /// Commits the object row, its sender and (for DICOM) study/series/instance rows durably.
  /// Stored vs AlreadyStored is decided here, by the index, not by the store.
  virtual Result<RecordResult> record_object(const ObjectRecord& rec) = 0;
  /// The object, if `institution` is among its senders; else not_found.
  virtual Result<ObjectInfo> find_object(const std::string& sha256, const std::string& institution) = 0;
  /// Studies `institution` has sent, newest study date first.
  virtual Result<std::vector<StudySummary>> list_studies(const std::string& institution,
                                                         const StudyQuery& q) = 0;
  /// One study of `institution` with series and instances, or not_found.
  virtual Result<StudyDetail> get_study(const std::string& institution, const std::string& study_uid) = 0;
};

/// SQLite (WAL, synchronous=FULL). One writer connection; concurrent record_object calls are
/// group-committed (one transaction, one fsync, per batch). Reads use a pool of connections.
class SqliteRepository final : public Repository {
 public:
  /// Opens (creating the schema if needed) the database at `path`; ":memory:" is not supported.
  static Result<std::unique_ptr<SqliteRepository>> open(const std::string& path);
  ~SqliteRepository() override;

  Result<Institution> create_institution(const std::string& id, const std::string& name) override;
  Status put_agent(const std::string& institution, const std::string& agent,
                   const std::string& token_sha256) override;
  Status revoke_agent(const std::string& agent) override;
  Result<std::vector<AgentInfo>> list_agents() override;
  Result<Credential> find_credential(const std::string& token_sha256) override;
  Status put_operator(const std::string& name, const std::string& token_sha256) override;
  Status revoke_operator(const std::string& name) override;
  Result<std::vector<OperatorInfo>> list_operators() override;
  Result<std::vector<Institution>> list_institutions() override;
  Result<RecordResult> record_object(const ObjectRecord& rec) override;
  Result<ObjectInfo> find_object(const std::string& sha256, const std::string& institution) override;
  Result<std::vector<StudySummary>> list_studies(const std::string& institution,
                                                 const StudyQuery& q) override;
  Result<StudyDetail> get_study(const std::string& institution, const std::string& study_uid) override;

  /// Number of write transactions committed by record_object (to observe group commit).
  std::uint64_t commit_count() const;

 private:
  struct Impl;
  explicit SqliteRepository(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Current UTC time as ISO-8601 with milliseconds ("2026-11-28T01:02:03.456Z").
std::string utc_now_iso();

}  // namespace lightbox::hub::index
