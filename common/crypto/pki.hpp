#pragma once
// X.509 for enrollment, on OpenSSL 3's EVP and X509 APIs, with PEM strings in and out so that
// nothing outside this folder includes an OpenSSL header: EC P-256 keys, certificate signing
// requests, a certificate authority that signs them as client certificates, and the facts of a
// certificate (subject, validity, serial, SHA-256 fingerprint).
#include <cstdint>
#include <string>

#include "common/error/result.hpp"

namespace lightbox::crypto {

/// `bytes` bytes from OpenSSL's CSPRNG as lowercase hex (tokens, serials).
Result<std::string> random_hex(std::size_t bytes);

/// A new EC P-256 private key, PEM (PKCS#8 "PRIVATE KEY").
Result<std::string> generate_ec_key();

/// A PEM certificate signing request for `common_name`, signed with `key_pem` (SHA-256).
Result<std::string> make_csr(const std::string& key_pem, const std::string& common_name);

/// A certificate and its private key, both PEM.
struct CertAndKey {
  std::string cert_pem;
  std::string key_pem;
};

/// A new self-signed CA (EC P-256, CA:TRUE pathlen 0, keyCertSign/cRLSign) valid for `days`.
Result<CertAndKey> make_ca(const std::string& common_name, const std::string& organization, int days);

/// What a CA puts into a client certificate; the CSR only contributes its public key.
struct ClientCertRequest {
  std::string csr_pem;
  std::string common_name;   // the agent id
  std::string organization;  // the institution (O and OU)
  int days = 365;
};

/// Verifies the CSR's self-signature and key (EC P-256/P-384 or RSA >= 2048) and issues a client
/// certificate (random 128-bit serial, clientAuth EKU, CA:FALSE) signed by `ca`. A bad CSR is
/// invalid_argument with field "csr".
Result<std::string> sign_client_cert(const CertAndKey& ca, const ClientCertRequest& req);

/// Facts of one certificate.
struct CertInfo {
  std::string subject;             // RFC 2253, e.g. "OU=hosp-a,O=hosp-a,CN=agent-1"
  std::string common_name;
  std::string organization;
  std::string issuer;
  std::string serial_hex;          // lowercase hex, no leading zeros
  std::string sha256_fingerprint;  // lowercase hex SHA-256 of the DER encoding
  std::int64_t not_before = 0;     // Unix seconds
  std::int64_t not_after = 0;
};

/// Reads the first certificate of a PEM text.
Result<CertInfo> read_cert(const std::string& cert_pem);

/// True when `key_pem` is the private key of `cert_pem`'s public key.
Result<bool> key_matches_cert(const std::string& key_pem, const std::string& cert_pem);

/// Whether `cert_pem` was signed by `ca_pem` and is within its validity at `now` (Unix seconds).
Status verify_issued_by(const std::string& cert_pem, const std::string& ca_pem, std::int64_t now);

}  // namespace lightbox::crypto
