#pragma once
// The hub's certificate authority: a CA certificate and key on disk (created on first use under
// <data_dir>/ca unless the operator configured their own files), and issuing client certificates
// from agents' CSRs.
#include <cstdint>
#include <string>

#include "common/crypto/pki.hpp"
#include "common/error/result.hpp"

namespace lightbox::hub::enroll {

/// Where the CA lives and how long what it issues lasts (config section `enroll`).
struct AuthorityOptions {
  std::string ca_dir;        // <data_dir>/ca: used when the two files below are empty
  std::string ca_cert_file;  // operator-provided CA (both or neither)
  std::string ca_key_file;
  int cert_days = 365;
};

/// A client certificate just issued.
struct Issued {
  std::string cert_pem;
  crypto::CertInfo info;
};

/// The CA. Immutable after open(); thread-safe.
class Authority {
 public:
  /// Loads the configured CA, or loads/creates ca_dir/ca.crt + ca.key (EC P-256, 10 years,
  /// key 0600, dir 0700). A CA whose key does not match its certificate is invalid_config.
  static Result<Authority> open(const AuthorityOptions& opts);

  /// Signs `csr_pem` as a client certificate for `agent` of `institution`.
  Result<Issued> issue(const std::string& csr_pem, const std::string& agent, const std::string& institution) const;
  /// The CA certificate, PEM.
  const std::string& cert_pem() const { return ca_.cert_pem; }
  /// Path of the CA certificate file (the TLS server verifies client certificates against it).
  const std::string& cert_file() const { return cert_file_; }
  int cert_days() const { return cert_days_; }

 private:
  Authority() = default;
  crypto::CertAndKey ca_;
  std::string cert_file_;
  int cert_days_ = 365;
};

}  // namespace lightbox::hub::enroll
