#include "agent/enroll/identity.hpp"
#include "agent/enroll/renewal.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include "common/crypto/pki.hpp"
#include "common/fsio/atomic_file.hpp"
#include "tests/unit/agent/temp_dir.hpp"

using namespace lightbox;
using namespace lightbox::agent;

namespace {

crypto::CertInfo lifetime(std::int64_t not_before, std::int64_t not_after) {
  crypto::CertInfo c;
  c.not_before = not_before;
  c.not_after = not_after;
  return c;
}

}  // namespace

TEST_CASE("renewal is due once less than a third of the lifetime is left") {
  auto c = lifetime(0, 300);  // 300 s lifetime: due when fewer than 100 s remain
  CHECK_FALSE(enroll::needs_renewal(c, 0));
  CHECK_FALSE(enroll::needs_renewal(c, 199));
  CHECK_FALSE(enroll::needs_renewal(c, 200));
  CHECK(enroll::needs_renewal(c, 201));
  CHECK(enroll::needs_renewal(c, 300));
  CHECK(enroll::needs_renewal(c, 1000));                  // expired
  CHECK(enroll::needs_renewal(lifetime(10, 10), 0));      // nonsense validity: renew
  auto year = lifetime(0, 365LL * 86400);
  CHECK_FALSE(enroll::needs_renewal(year, 240LL * 86400));  // 125 days left
  CHECK(enroll::needs_renewal(year, 250LL * 86400));        // 115 days left
}

TEST_CASE("the identity is written with a private key, read back, and used by the HTTP client options") {
  test::TempDir tmp;
  const std::string dir = tmp / "identity";
  auto ca = crypto::make_ca("CA", "", 30).value();
  auto key = crypto::generate_ec_key().value();
  auto cert = crypto::sign_client_cert(ca, {crypto::make_csr(key, "a1").value(), "a1", "h1", 10}).value();

  http::ClientOptions o;
  CHECK_FALSE(enroll::identity_exists(dir));
  CHECK_FALSE(enroll::apply_identity(dir, o));
  CHECK(o.client_cert_file.empty());

  // A certificate of another key is refused before anything is written.
  auto other = crypto::generate_ec_key().value();
  CHECK_FALSE(enroll::write_identity(dir, other, cert, ca.cert_pem).ok());
  CHECK_FALSE(enroll::identity_exists(dir));

  REQUIRE(enroll::write_identity(dir, key, cert, ca.cert_pem).ok());
  CHECK(enroll::identity_exists(dir));
  struct stat st{};
  REQUIRE(::stat((dir + "/agent.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(fsio::read_file(dir + "/hub-ca.crt").value() == ca.cert_pem);

  auto info = enroll::read_identity(dir).value();
  CHECK(info.common_name == "a1");
  CHECK(enroll::apply_identity(dir, o));
  CHECK(o.client_cert_file == dir + "/agent.crt");
  CHECK(o.client_key_file == dir + "/agent.key");
  CHECK(enroll::iso_time(0) == "1970-01-01T00:00:00Z");
}

TEST_CASE("the renewal check does nothing without an identity or before a third of the lifetime is left") {
  test::TempDir tmp;
  log::Logger quiet(log::Level::off);
  enroll::RenewalOptions o;
  o.hub.url = "https://127.0.0.1:9";  // never reached in this test
  o.agent = "a1";
  o.identity_dir = tmp / "identity";
  enroll::Renewal r(o, quiet);
  CHECK(r.check_once(enroll::unix_now()) == enroll::Renewal::Outcome::no_identity);
  auto ca = crypto::make_ca("CA", "", 30).value();
  auto key = crypto::generate_ec_key().value();
  auto cert = crypto::sign_client_cert(ca, {crypto::make_csr(key, "a1").value(), "a1", "h1", 30}).value();
  REQUIRE(enroll::write_identity(o.identity_dir, key, cert, ca.cert_pem).ok());
  CHECK(r.check_once(enroll::unix_now()) == enroll::Renewal::Outcome::not_due);
  CHECK(r.check_once(enroll::unix_now() + 19 * 86400) == enroll::Renewal::Outcome::not_due);
  // start/stop without waiting out the hour: stop wakes the thread.
  r.start();
  r.stop();
}
