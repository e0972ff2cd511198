#include "agent/enroll/enroller.hpp"

#include <nlohmann/json.hpp>

#include "agent/enroll/identity.hpp"

namespace lightbox::agent::enroll {
namespace {

constexpr std::string_view kEnrollPath = "/api/v1/enroll";
constexpr std::string_view kRenewPath = "/api/v1/enroll/renew";
constexpr std::string_view kAgentHeader = "X-Lightbox-Agent";

http::ClientOptions client_options(const HubEndpoint& hub) {
  http::ClientOptions o;
  o.base_url = hub.url;
  o.ca_file = hub.ca_file;
  o.connect_timeout_seconds = hub.connect_timeout_seconds;
  o.timeout_seconds = hub.timeout_seconds;
  return o;
}

// The hub's JSON error as an Error; a revocation keeps its name in `field` ("revoked").
Error hub_refusal(const http::Response& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  std::string name, message, field;
  if (j.is_object()) {
    if (j.contains("error") && j["error"].is_string()) name = j["error"].get<std::string>();
    if (j.contains("message") && j["message"].is_string()) message = j["message"].get<std::string>();
    if (j.contains("field") && j["field"].is_string()) field = j["field"].get<std::string>();
  }
  if (message.empty()) message = "hub answered HTTP " + std::to_string(r.status);
  if (name == "revoked") return Error{Errc::forbidden, message, "revoked"};
  return Error{errc_from_http_status(static_cast<int>(r.status)), message, field};
}

// Sends `body`, checks the answer and installs key + certificate + CA.
Result<Certified> exchange(http::Client& client, std::string_view path, const nlohmann::json& body,
                           const std::string& key_pem, const std::string& agent, const std::string& identity_dir) {
  auto r = client.send("POST", std::string(path), body.dump(),
                       {{"Content-Type", "application/json"}, {std::string(kAgentHeader), agent}},
                       /*authenticate=*/false);
  if (!r) return std::move(r).error();
  if (r->status != 201 && r->status != 200) return hub_refusal(*r);
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (!j.is_object() || !j.contains("certificate") || !j["certificate"].is_string() ||
      !j.contains("ca_certificate") || !j["ca_certificate"].is_string())
    return fail(Errc::upstream, "the hub's answer carries no certificate");
  const std::string cert = j["certificate"].get<std::string>();
  const std::string ca = j["ca_certificate"].get<std::string>();
  // Trust but verify: the certificate must chain to the CA the hub named and be valid now.
  if (auto s = crypto::verify_issued_by(cert, ca, unix_now()); !s)
    return fail(Errc::upstream, "the hub's certificate is unusable: " + s.error().message);
  auto info = crypto::read_cert(cert);
  if (!info) return std::move(info).error();
  if (auto s = write_identity(identity_dir, key_pem, cert, ca); !s) return std::move(s).error();
  Certified out;
  out.agent = j.value("agent", info->common_name);
  out.institution = j.value("institution", info->organization);
  out.cert = std::move(*info);
  return out;
}

}  // namespace

Result<Certified> enroll_agent(const HubEndpoint& hub, const log::Secret& token, const std::string& agent,
                               const std::string& identity_dir) {
  auto key = crypto::generate_ec_key();
  if (!key) return std::move(key).error();
  auto csr = crypto::make_csr(*key, agent);
  if (!csr) return std::move(csr).error();
  http::Client client(client_options(hub));
  nlohmann::json body{{"token", token.reveal()}, {"agent", agent}, {"csr", *csr}};
  return exchange(client, kEnrollPath, body, *key, agent, identity_dir);
}

Result<Certified> renew_identity(const HubEndpoint& hub, const std::string& agent, const std::string& identity_dir) {
  auto o = client_options(hub);
  if (!apply_identity(identity_dir, o))
    return fail(Errc::not_found, "no identity in " + identity_dir + " (run `lightbox-agent enroll` first)");
  auto key = crypto::generate_ec_key();
  if (!key) return std::move(key).error();
  auto csr = crypto::make_csr(*key, agent);
  if (!csr) return std::move(csr).error();
  http::Client client(std::move(o));
  return exchange(client, kRenewPath, nlohmann::json{{"csr", *csr}}, *key, agent, identity_dir);
}

}  // namespace lightbox::agent::enroll
