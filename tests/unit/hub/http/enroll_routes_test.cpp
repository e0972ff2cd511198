#include <doctest/doctest.h>

#include <ctime>

#include "common/crypto/pki.hpp"
#include "hub/enroll/authority.hpp"
#include "hub/enroll/repository.hpp"
#include "hub/enroll/service.hpp"
#include "hub/http/api.hpp"
#include "tests/unit/hub/http/api_fixture.hpp"

using namespace lightbox;
using namespace lightbox::hub;
using http::Request;
using http::Response;

namespace {

struct Fixture : test::ApiFixture {
  enroll::Authority ca = enroll::Authority::open({dir / "ca", "", "", 30}).value();
  std::unique_ptr<enroll::EnrollRepository> enroll_repo = enroll::EnrollRepository::open(dir / "index.db").value();
  enroll::EnrollService service{ca, *enroll_repo};

  Fixture() {
    REQUIRE(repo->create_institution("h1", "H1").ok());
    api.set_enroll(&service);
  }
  std::string token() {
    return service.create_token("h1", "", 24, static_cast<std::int64_t>(std::time(nullptr))).value().token;
  }
  Response post(const std::string& path, const nlohmann::json& body, const std::string& fingerprint = "") {
    Request r;
    r.method = "POST";
    r.target = path;
    r.peer_cert_sha256 = fingerprint;
    r.content_length = body.dump().size();
    return api.handle(r, body.dump());
  }
  Response get(const std::string& path, const std::string& fingerprint, const std::string& agent_header = "") {
    Request r;
    r.method = "GET";
    r.target = path;
    r.peer_cert_sha256 = fingerprint;
    if (!agent_header.empty()) r.headers.emplace_back("X-Lightbox-Agent", agent_header);
    return api.handle(r);
  }
  // Enrolls agent `id`; returns its certificate's fingerprint.
  std::string enroll(const std::string& id) {
    auto csr = crypto::make_csr(crypto::generate_ec_key().value(), id).value();
    auto res = post("/api/v1/enroll", {{"token", token()}, {"agent", id}, {"csr", csr}});
    REQUIRE(res.status == 201);
    auto j = nlohmann::json::parse(res.body);
    return crypto::read_cert(j["certificate"].get<std::string>()).value().sha256_fingerprint;
  }
};

nlohmann::json body_of(const Response& r) { return nlohmann::json::parse(r.body); }

}  // namespace

TEST_CASE("POST /api/v1/enroll: 201 with the certificate; the token is single use (401 naming why)") {
  Fixture f;
  const auto t = f.token();
  auto csr = crypto::make_csr(crypto::generate_ec_key().value(), "a1").value();
  auto res = f.post("/api/v1/enroll", {{"token", t}, {"agent", "a1"}, {"csr", csr}});
  REQUIRE(res.status == 201);
  auto j = body_of(res);
  CHECK(j["agent"] == "a1");
  CHECK(j["institution"] == "h1");
  CHECK(j["ca_certificate"] == f.ca.cert_pem());
  CHECK(j["certificate"].get<std::string>().find("BEGIN CERTIFICATE") != std::string::npos);
  CHECK(j["not_after"].is_string());

  auto again = f.post("/api/v1/enroll", {{"token", t}, {"agent", "a1"}, {"csr", csr}});
  CHECK(again.status == 401);
  CHECK(body_of(again)["error"] == "unauthorized");
  CHECK(body_of(again)["field"] == "token");
  CHECK(body_of(again)["message"].get<std::string>().find("already used") != std::string::npos);

  auto bad = f.post("/api/v1/enroll", {{"token", f.token()}, {"agent", "a2"}, {"csr", "nope"}});
  CHECK(bad.status == 400);
  CHECK(body_of(bad)["field"] == "csr");
  auto missing = f.post("/api/v1/enroll", {{"agent", "a2"}, {"csr", csr}});
  CHECK(missing.status == 400);
  CHECK(body_of(missing)["field"] == "token");
  CHECK(f.get("/api/v1/enroll", "").status == 405);
}

TEST_CASE("a known client certificate authenticates without a bearer token; revoked is 403 revoked") {
  Fixture f;
  const auto fp = f.enroll("a1");
  CHECK(f.get("/api/v1/studies", fp).status == 200);
  CHECK(f.get("/api/v1/studies", fp, "a1").status == 200);
  CHECK(f.get("/api/v1/studies", fp, "a2").status == 403);
  CHECK(f.get("/api/v1/studies", std::string(64, 'f')).status == 401);
  CHECK(f.get("/api/v1/studies", "").status == 401);  // neither certificate nor token

  REQUIRE(f.repo->revoke_agent("a1").ok());
  auto res = f.get("/api/v1/studies", fp);
  CHECK(res.status == 403);
  CHECK(body_of(res)["error"] == "revoked");
  CHECK(body_of(res).contains("field"));
  CHECK(body_of(res)["message"].get<std::string>().find("agent a1 was revoked") != std::string::npos);
}

TEST_CASE("POST /api/v1/enroll/renew needs the client certificate") {
  Fixture f;
  const auto fp = f.enroll("a1");
  auto csr = crypto::make_csr(crypto::generate_ec_key().value(), "a1").value();
  CHECK(f.post("/api/v1/enroll/renew", {{"csr", csr}}).status == 401);
  auto res = f.post("/api/v1/enroll/renew", {{"csr", csr}}, fp);
  REQUIRE(res.status == 201);
  auto fp2 = crypto::read_cert(body_of(res)["certificate"].get<std::string>()).value().sha256_fingerprint;
  CHECK(fp2 != fp);
  CHECK(f.get("/api/v1/studies", fp2).status == 200);
  REQUIRE(f.enroll_repo->revoke_certs("a1").ok());
  auto refused = f.post("/api/v1/enroll/renew", {{"csr", csr}}, fp2);
  CHECK(refused.status == 403);
  CHECK(body_of(refused)["error"] == "revoked");
}

TEST_CASE("without enrollment configured: 404, and a certificate fingerprint alone authenticates nothing") {
  Fixture f;
  const auto fp = f.enroll("a1");
  http::Api plain{f.pipeline, *f.repo, f.store, f.records, f.log, "1.2.3"};
  Request r;
  r.method = "GET";
  r.target = "/api/v1/studies";
  r.peer_cert_sha256 = fp;
  CHECK(plain.handle(r).status == 401);
  r.method = "POST";
  r.target = "/api/v1/enroll";
  CHECK(plain.handle(r, "{}").status == 404);
}
