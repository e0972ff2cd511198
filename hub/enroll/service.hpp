#pragma once
// Enrollment as the API and the admin CLI see it: create a one-time token, trade a token and a
// CSR for a client certificate, renew with the current certificate, and map a presented client
// certificate to the agent's credential.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error/result.hpp"
#include "hub/enroll/authority.hpp"
#include "hub/enroll/repository.hpp"
#include "hub/index/repository.hpp"

namespace lightbox::hub::enroll {

/// Prefix of enrollment tokens ("lbe_" + 64 hex).
inline constexpr std::string_view kTokenPrefix = "lbe_";
/// The JSON error name of a revoked certificate or agent (HTTP 403).
inline constexpr std::string_view kRevokedError = "revoked";

/// What the admin gets back from create_token.
struct NewToken {
  std::string token;
  std::string institution;
  std::string agent;
  std::int64_t expires_at = 0;  // Unix seconds
};

/// A certificate handed to an agent (the body of a 201 from /api/v1/enroll[/renew]).
struct Enrolled {
  std::string agent;
  std::string institution;
  std::string certificate;     // PEM
  std::string ca_certificate;  // PEM of the hub CA
  std::int64_t not_after = 0;  // Unix seconds

  /// {"agent","institution","certificate","ca_certificate","not_after":"…Z"}
  nlohmann::json to_json() const;
};

/// Unix seconds as ISO-8601 UTC ("2027-11-28T04:00:00Z").
std::string iso_utc(std::int64_t unix_seconds);

/// Stateless over its collaborators; thread-safe.
class EnrollService {
 public:
  EnrollService(const Authority& ca, EnrollRepository& repo) : ca_(ca), repo_(repo) {}

  /// A new single-use token for `institution` (optionally bound to `agent`), valid `ttl_hours`.
  Result<NewToken> create_token(const std::string& institution, const std::string& agent, std::int64_t ttl_hours,
                                std::int64_t now);
  /// Redeems `token` for `agent` with `csr_pem`. Errors: unauthorized (field "token") naming
  /// unknown / already used / expired; forbidden when the token is bound to another agent;
  /// invalid_argument for a bad agent id or CSR; conflict when the id is another institution's.
  Result<Enrolled> enroll(const std::string& token, const std::string& agent, const std::string& csr_pem,
                          std::int64_t now);
  /// A new certificate for the agent that authenticated with `fingerprint` (its current, valid
  /// certificate). The old certificate stays valid until it expires or is revoked.
  Result<Enrolled> renew(const std::string& fingerprint, const std::string& csr_pem, std::int64_t now);
  /// The agent credential for a client certificate the TLS layer verified against the CA.
  /// unknown → unauthorized; expired → unauthorized; revoked (certificate or agent) →
  /// forbidden with field kRevokedError.
  Result<index::Credential> authenticate(const std::string& fingerprint, std::int64_t now);

 private:
  Result<CertRecord> issue(const std::string& csr_pem, const std::string& agent, const std::string& institution,
                           std::string& pem);
  const Authority& ca_;
  EnrollRepository& repo_;
};

/// True when `e` is the revocation refusal authenticate() produces.
inline bool is_revocation(const Error& e) { return e.code == Errc::forbidden && e.field == kRevokedError; }

}  // namespace lightbox::hub::enroll
