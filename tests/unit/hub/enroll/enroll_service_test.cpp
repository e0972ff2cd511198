#include "hub/enroll/service.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <sys/stat.h>

#include "common/crypto/pki.hpp"
#include "hub/enroll/authority.hpp"
#include "hub/enroll/repository.hpp"
#include "hub/index/repository.hpp"
#include "tests/unit/hub/test_support.hpp"

using namespace lightbox;
using namespace lightbox::hub;

namespace {

constexpr std::int64_t kNow = 1'900'000'000;  // fixed clock for token expiry

std::string new_csr(const std::string& cn = "x") {
  return crypto::make_csr(crypto::generate_ec_key().value(), cn).value();
}

struct Fixture {
  test::ScratchDir dir;
  std::unique_ptr<index::SqliteRepository> index = index::SqliteRepository::open(dir / "index.db").value();
  enroll::Authority ca = enroll::Authority::open({dir / "ca", "", "", 30}).value();
  std::unique_ptr<enroll::EnrollRepository> repo = enroll::EnrollRepository::open(dir / "index.db").value();
  enroll::EnrollService service{ca, *repo};

  Fixture() {
    REQUIRE(index->create_institution("hosp-a", "A").ok());
    REQUIRE(index->create_institution("hosp-b", "B").ok());
  }
  std::string token(const std::string& agent = "", std::int64_t ttl_hours = 24, const std::string& inst = "hosp-a") {
    return service.create_token(inst, agent, ttl_hours, kNow).value().token;
  }
  static std::int64_t real_now() { return static_cast<std::int64_t>(std::time(nullptr)); }
};

}  // namespace

TEST_CASE("the CA is created once under ca_dir with a private key, and reopened unchanged") {
  Fixture f;
  struct stat st{};
  REQUIRE(::stat((f.dir / "ca/ca.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((f.dir / "ca").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  auto again = enroll::Authority::open({f.dir / "ca", "", "", 30}).value();
  CHECK(again.cert_pem() == f.ca.cert_pem());
  CHECK(again.cert_file() == f.dir / "ca/ca.crt");
  // A configured CA needs both files; a key that does not match is refused.
  CHECK(enroll::Authority::open({"", f.dir / "ca/ca.crt", "", 30}).error().code == Errc::invalid_config);
  auto other = crypto::make_ca("Other", "", 10).value();
  {
    std::FILE* k = std::fopen((f.dir / "other.key").c_str(), "w");
    std::fputs(other.key_pem.c_str(), k);
    std::fclose(k);
  }
  auto mismatch = enroll::Authority::open({"", f.dir / "ca/ca.crt", f.dir / "other.key", 30});
  REQUIRE_FALSE(mismatch.ok());
  CHECK(mismatch.error().field == "enroll.ca_key_file");
  // A CA directory that exists without its files is reported, never silently replaced by a new CA
  // (that would orphan every issued certificate).
  std::filesystem::create_directories(f.dir / "ca-empty");
  auto empty = enroll::Authority::open({f.dir / "ca-empty", "", "", 30});
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code == Errc::invalid_config);
  CHECK(empty.error().message.find("ca-empty/ca.crt") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(f.dir / "ca-empty/ca.key"));
}

TEST_CASE("a token enrolls once; the certificate names the agent and institution and authenticates") {
  Fixture f;
  const auto t = f.token();
  CHECK(t.rfind("lbe_", 0) == 0);
  CHECK(t.size() == 4 + 64);
  auto e = f.service.enroll(t, "agent-1", new_csr(), kNow);
  REQUIRE(e.ok());
  CHECK(e->agent == "agent-1");
  CHECK(e->institution == "hosp-a");
  CHECK(e->ca_certificate == f.ca.cert_pem());
  auto info = crypto::read_cert(e->certificate).value();
  CHECK(info.common_name == "agent-1");
  CHECK(info.organization == "hosp-a");
  auto json = e->to_json();
  CHECK(json["not_after"].get<std::string>().back() == 'Z');

  auto who = f.service.authenticate(info.sha256_fingerprint, Fixture::real_now());
  REQUIRE(who.ok());
  CHECK(who->agent == "agent-1");
  CHECK(who->institution == "hosp-a");
  CHECK(who->role == index::Role::agent);
  // The agent is registered in the index (fleet and admin list-agents see it).
  auto agents = f.index->list_agents().value();
  REQUIRE(agents.size() == 1);
  CHECK(agents[0].id == "agent-1");

  // Single use: the second redemption is refused and says why.
  auto again = f.service.enroll(t, "agent-2", new_csr(), kNow + 1);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == Errc::unauthorized);
  CHECK(again.error().field == "token");
  CHECK(again.error().message.find("already used") != std::string::npos);
  CHECK(again.error().message.find("agent-1") != std::string::npos);
}

TEST_CASE("expired, unknown and wrong-agent tokens are refused; a bad CSR does not use the token up") {
  Fixture f;
  const auto t = f.token("", 1);
  auto late = f.service.enroll(t, "agent-1", new_csr(), kNow + 3600);
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().code == Errc::unauthorized);
  CHECK(late.error().message.find("expired") != std::string::npos);

  auto unknown = f.service.enroll("lbe_" + std::string(64, '0'), "agent-1", new_csr(), kNow);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message.find("unknown enrollment token") != std::string::npos);

  const auto bound = f.token("agent-7");
  auto wrong = f.service.enroll(bound, "agent-8", new_csr(), kNow);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().code == Errc::forbidden);
  auto bad = f.service.enroll(bound, "", "garbage", kNow);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == Errc::invalid_argument);
  CHECK(bad.error().field == "csr");
  // The bound agent id is used when the request names none, and the token still works.
  auto ok = f.service.enroll(bound, "", new_csr(), kNow);
  REQUIRE(ok.ok());
  CHECK(ok->agent == "agent-7");

  CHECK(f.service.create_token("no-such-inst", "", 24, kNow).error().code == Errc::not_found);
  CHECK(f.service.create_token("hosp-a", "", 0, kNow).error().field == "ttl-hours");
  CHECK(f.service.create_token("hosp-b", "agent-7", 24, kNow).error().code == Errc::conflict);
}

TEST_CASE("an agent id of another institution cannot enroll") {
  Fixture f;
  REQUIRE(f.service.enroll(f.token(), "agent-1", new_csr(), kNow).ok());
  auto other = f.service.enroll(f.token("", 24, "hosp-b"), "agent-1", new_csr(), kNow);
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().code == Errc::conflict);
}

TEST_CASE("renewal issues a new certificate; revocation refuses both, clearly; unknown and expired fail") {
  Fixture f;
  const std::int64_t now = Fixture::real_now();
  auto first = f.service.enroll(f.token(), "agent-1", new_csr(), kNow).value();
  const auto fp1 = crypto::read_cert(first.certificate).value().sha256_fingerprint;
  auto renewed = f.service.renew(fp1, new_csr(), now);
  REQUIRE(renewed.ok());
  const auto fp2 = crypto::read_cert(renewed->certificate).value().sha256_fingerprint;
  CHECK(fp2 != fp1);
  CHECK(f.service.authenticate(fp2, now).ok());
  CHECK(f.service.authenticate(fp1, now).ok());  // still valid until it expires or is revoked
  CHECK(f.repo->list_certs().value().size() == 2);

  CHECK(f.service.authenticate(std::string(64, 'a'), now).error().code == Errc::unauthorized);
  auto expired = f.service.authenticate(fp2, now + 31 * 86400);
  REQUIRE_FALSE(expired.ok());
  CHECK(expired.error().message.find("expired") != std::string::npos);

  CHECK(f.repo->revoke_certs("agent-1").value() == 2);
  for (const auto& fp : {fp1, fp2}) {
    auto r = f.service.authenticate(fp, now);
    REQUIRE_FALSE(r.ok());
    CHECK(enroll::is_revocation(r.error()));
    CHECK(r.error().message.find("agent agent-1 was revoked") != std::string::npos);
  }
  auto r = f.service.renew(fp2, new_csr(), now);
  REQUIRE_FALSE(r.ok());
  CHECK(enroll::is_revocation(r.error()));
}

TEST_CASE("revoking the agent in the index revokes its certificates too; a fresh token re-admits it") {
  Fixture f;
  const std::int64_t now = Fixture::real_now();
  auto e = f.service.enroll(f.token(), "agent-1", new_csr(), kNow).value();
  const auto fp = crypto::read_cert(e.certificate).value().sha256_fingerprint;
  REQUIRE(f.index->revoke_agent("agent-1").ok());
  CHECK(enroll::is_revocation(f.service.authenticate(fp, now).error()));
  auto again = f.service.enroll(f.token(), "agent-1", new_csr(), kNow);
  REQUIRE(again.ok());
  CHECK(f.service.authenticate(crypto::read_cert(again->certificate).value().sha256_fingerprint, now).ok());
  CHECK(enroll::is_revocation(f.service.authenticate(fp, now).error()));  // the old one stays dead
}
