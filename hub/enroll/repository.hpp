#pragma once
// Enrollment tables in the hub's index.db: one-time enrollment tokens (hashed) and every client
// certificate issued, with its revocation. Redeeming a token, registering the agent and storing
// its first certificate happen in one transaction.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/error/result.hpp"
#include "common/sqlite/db.hpp"

namespace lightbox::hub::enroll {

/// One enrollment token as stored (never the token itself).
struct TokenRecord {
  std::string institution;
  std::string agent;  // empty = any agent id the enrolling agent names
  std::int64_t expires_at = 0;          // Unix seconds
  std::optional<std::int64_t> used_at;  // Unix seconds
  std::string used_by;                  // the agent that redeemed it
};

/// One issued client certificate.
struct CertRecord {
  std::string serial;       // lowercase hex
  std::string fingerprint;  // SHA-256 of the DER, lowercase hex
  std::string agent;
  std::string institution;
  std::int64_t not_before = 0;  // Unix seconds
  std::int64_t not_after = 0;
  std::string issued_at;        // ISO-8601
  std::optional<std::string> revoked_at;
  bool agent_revoked = false;   // the agent itself (agents table) is revoked
};

/// The enrollment tables. Thread-safe (one connection behind a mutex: enrollment is rare).
class EnrollRepository {
 public:
  /// Opens `path` (the index.db shared with the other repositories), creating the tables.
  static Result<std::unique_ptr<EnrollRepository>> open(const std::string& path);

  /// Stores a token hash for `institution` (which must exist: not_found otherwise).
  Status put_token(const std::string& token_sha256, const std::string& institution, const std::string& agent,
                   std::int64_t expires_at);
  /// The token with that hash, or not_found.
  Result<TokenRecord> find_token(const std::string& token_sha256);
  /// One transaction: marks the token used by cert.agent (unauthorized when it was used or
  /// expired meanwhile), registers the agent under the token's institution (conflict when the id
  /// belongs to another institution; a revoked agent is re-admitted), stores `cert`.
  Status redeem(const std::string& token_sha256, std::int64_t now, const CertRecord& cert);
  /// Stores a renewed certificate of an agent that already exists.
  Status add_cert(const CertRecord& cert);
  /// The certificate with that fingerprint, or not_found.
  Result<CertRecord> find_cert(const std::string& fingerprint);
  /// Revokes every certificate of `agent`; returns how many were newly revoked.
  Result<std::int64_t> revoke_certs(const std::string& agent);
  /// Every certificate, newest first.
  Result<std::vector<CertRecord>> list_certs();

 private:
  explicit EnrollRepository(sqlite::Db db) : db_(std::move(db)) {}
  Status insert_cert(const CertRecord& cert);

  std::mutex mu_;
  sqlite::Db db_;
};

}  // namespace lightbox::hub::enroll
