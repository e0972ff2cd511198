#include "agent/app/config.hpp"

#include <doctest/doctest.h>

#include "agent/enroll/identity.hpp"
#include "common/crypto/pki.hpp"
#include "tests/unit/agent/temp_dir.hpp"

using namespace lightbox;
using namespace lightbox::agent;

namespace {

app::AgentConfig parse(const std::string& data_dir, const std::string& hub_extra, config::Problems& p) {
  std::string text = R"({"agent": {"id": "a1", "data_dir": ")" + data_dir + R"("},
    "hub": {"url": "https://127.0.0.1:8443")" + hub_extra + R"(},
    "sources": [{"name": "s", "kind": "folder", "path": "/x"}]})";
  auto j = config::load_text(text, p);
  REQUIRE(j.ok());
  return app::parse_config(*j, p);
}

bool has_problem(const config::Problems& p, const std::string& field, const std::string& needle) {
  for (const auto& e : p.list())
    if (e.field == field && e.message.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("hub.token is optional exactly when the identity exists; identity_dir defaults under data_dir") {
  test::TempDir tmp;
  config::Problems p;
  auto cfg = parse(tmp.path(), "", p);
  CHECK(cfg.hub.identity_dir == tmp / "identity");
  CHECK(has_problem(p, "hub.token", "lightbox-agent enroll"));

  auto ca = crypto::make_ca("CA", "", 30).value();
  auto key = crypto::generate_ec_key().value();
  auto cert = crypto::sign_client_cert(ca, {crypto::make_csr(key, "a1").value(), "a1", "h1", 30}).value();
  REQUIRE(enroll::write_identity(tmp / "identity", key, cert, ca.cert_pem).ok());
  config::Problems enrolled;
  cfg = parse(tmp.path(), "", enrolled);
  CHECK_MESSAGE(enrolled.empty(), enrolled.to_string());
  CHECK(cfg.hub.token.empty());

  // An explicit identity_dir elsewhere is what counts.
  config::Problems elsewhere;
  cfg = parse(tmp.path(), R"(, "identity_dir": ")" + tmp / "other" + R"(")", elsewhere);
  CHECK(cfg.hub.identity_dir == tmp / "other");
  CHECK(has_problem(elsewhere, "hub.token", "no identity in " + tmp / "other"));
  config::Problems empty_dir;
  (void)parse(tmp.path(), R"(, "identity_dir": "", "token": "t")", empty_dir);
  CHECK(has_problem(empty_dir, "hub.identity_dir", "must not be empty"));
}
