#include "common/crypto/pki.hpp"

#include <doctest/doctest.h>

#include <ctime>

using namespace lightbox;
using namespace lightbox::crypto;

namespace {

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

CertAndKey test_ca() { return make_ca("Test CA", "Lightbox tests", 30).value(); }

std::string client_cert(const CertAndKey& ca, const std::string& key, int days = 365) {
  auto csr = make_csr(key, "ignored-cn").value();
  return sign_client_cert(ca, {csr, "agent-1", "hosp-a", days}).value();
}

}  // namespace

TEST_CASE("a CSR signed by the CA becomes a client certificate for the agent, not for the CSR's subject") {
  auto ca = test_ca();
  auto key = generate_ec_key().value();
  CHECK(key.find("BEGIN PRIVATE KEY") != std::string::npos);
  auto pem = client_cert(ca, key);
  auto info = read_cert(pem).value();
  CHECK(info.common_name == "agent-1");
  CHECK(info.organization == "hosp-a");
  CHECK(info.subject.find("CN=agent-1") != std::string::npos);
  CHECK(info.subject.find("OU=hosp-a") != std::string::npos);
  CHECK(info.issuer.find("CN=Test CA") != std::string::npos);
  CHECK(info.sha256_fingerprint.size() == 64);
  CHECK(!info.serial_hex.empty());
  // Validity: backdated 5 minutes, and never beyond the CA's own 30 days although 365 were asked.
  CHECK(info.not_before <= now() - 250);
  CHECK(info.not_after <= now() + 30 * 86400 + 5);
  CHECK(info.not_after >= now() + 30 * 86400 - 60);
  CHECK(key_matches_cert(key, pem).value());
  CHECK(verify_issued_by(pem, ca.cert_pem, now()).ok());
}

TEST_CASE("lifetime is cert_days when the CA outlives it; serials are random") {
  auto ca = make_ca("Long CA", "", 3650).value();
  auto key = generate_ec_key().value();
  auto a = read_cert(client_cert(ca, key, 2)).value();
  auto b = read_cert(client_cert(ca, key, 2)).value();
  CHECK(a.not_after - now() <= 2 * 86400);
  CHECK(a.not_after - now() >= 2 * 86400 - 60);
  CHECK(a.serial_hex != b.serial_hex);
  CHECK(a.sha256_fingerprint != b.sha256_fingerprint);
}

TEST_CASE("verification fails for another CA, after expiry, and the wrong key does not match") {
  auto ca = test_ca();
  auto other = test_ca();
  auto key = generate_ec_key().value();
  auto pem = client_cert(ca, key);
  CHECK(verify_issued_by(pem, other.cert_pem, now()).error().code == Errc::forbidden);
  CHECK(verify_issued_by(pem, ca.cert_pem, now() + 31 * 86400).error().message.find("expired") != std::string::npos);
  CHECK_FALSE(key_matches_cert(generate_ec_key().value(), pem).value());
}

TEST_CASE("bad CSRs are invalid_argument naming csr") {
  auto ca = test_ca();
  auto bad = sign_client_cert(ca, {"not a csr", "agent-1", "hosp-a", 10});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == Errc::invalid_argument);
  CHECK(bad.error().field == "csr");

  // A CSR whose body was altered after signing: the signature no longer verifies.
  auto csr = make_csr(generate_ec_key().value(), "agent-1").value();
  auto pos = csr.find('\n', csr.find("-----BEGIN")) + 40;
  csr[pos] = csr[pos] == 'A' ? 'B' : 'A';
  auto tampered = sign_client_cert(ca, {csr, "agent-1", "hosp-a", 10});
  REQUIRE_FALSE(tampered.ok());
  CHECK(tampered.error().field == "csr");
}

TEST_CASE("random_hex gives fresh lowercase hex") {
  auto a = random_hex(32).value();
  CHECK(a.size() == 64);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != random_hex(32).value());
}
