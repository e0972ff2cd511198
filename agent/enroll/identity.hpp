#pragma once
// The agent's identity on disk: <identity_dir>/agent.key (EC P-256, 0600), agent.crt (client
// certificate from the hub CA) and hub-ca.crt. Written atomically, read by every hub client.
#include <cstdint>
#include <string>

#include "common/crypto/pki.hpp"
#include "common/error/result.hpp"
#include "common/http/client.hpp"

namespace lightbox::agent::enroll {

/// File names inside the identity directory.
struct IdentityPaths {
  std::string dir;
  std::string key() const { return dir + "/agent.key"; }
  std::string cert() const { return dir + "/agent.crt"; }
  std::string ca() const { return dir + "/hub-ca.crt"; }
};

/// True when both agent.key and agent.crt exist in `dir`.
bool identity_exists(const std::string& dir);

/// Writes key (0600), certificate and hub CA into `dir` (created 0700), each atomically. The
/// certificate must belong to the key. The key is replaced last-but-one and the certificate
/// right after it, so a reader sees a mismatched pair for at most the moment between two renames.
Status write_identity(const std::string& dir, const std::string& key_pem, const std::string& cert_pem,
                      const std::string& ca_pem);

/// The facts of <dir>/agent.crt.
Result<crypto::CertInfo> read_identity(const std::string& dir);

/// True when less than a third of the certificate's lifetime is left at `now` (Unix seconds).
bool needs_renewal(const crypto::CertInfo& cert, std::int64_t now);

/// Points `o` at the identity's key and certificate when the identity exists; returns whether it did.
bool apply_identity(const std::string& dir, http::ClientOptions& o);

/// Unix seconds now.
std::int64_t unix_now();
/// Unix seconds as ISO-8601 UTC ("2027-11-28T04:00:00Z").
std::string iso_time(std::int64_t unix_seconds);

}  // namespace lightbox::agent::enroll
