#pragma once
// Talking to the hub about certificates: enroll with a one-time token, renew with the current
// certificate. Both generate a fresh EC P-256 key and CSR here; the key never leaves the agent.
#include <cstdint>
#include <string>

#include "common/crypto/pki.hpp"
#include "common/error/result.hpp"
#include "common/http/client.hpp"
#include "common/log/logger.hpp"

namespace lightbox::agent::enroll {

/// Where the hub is and how to reach it (no credential: enrollment brings its own).
struct HubEndpoint {
  std::string url;      // https://hub:8443
  std::string ca_file;  // verifies the hub's TLS certificate; empty = system store
  long connect_timeout_seconds = 10;
  long timeout_seconds = 60;
};

/// What the hub answered to an enrollment or renewal.
struct Certified {
  std::string agent;
  std::string institution;
  crypto::CertInfo cert;
};

/// POST /api/v1/enroll with `token` for `agent`; writes the identity into `identity_dir`.
/// The hub's refusal (401 token used/expired/unknown, 400 bad CSR...) is returned as its Error.
Result<Certified> enroll_agent(const HubEndpoint& hub, const log::Secret& token, const std::string& agent,
                               const std::string& identity_dir);

/// POST /api/v1/enroll/renew over mutual TLS with the identity in `identity_dir`; on success the
/// new key and certificate replace the old ones. A revoked agent gets Error{forbidden, ..., "revoked"}.
Result<Certified> renew_identity(const HubEndpoint& hub, const std::string& agent, const std::string& identity_dir);

}  // namespace lightbox::agent::enroll
