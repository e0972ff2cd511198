// The enrollment routes of Api: POST /api/v1/enroll (no bearer: the one-time token is in the
// body) and POST /api/v1/enroll/renew (authenticated by the current client certificate), and
// the client-certificate half of authenticate(). The CA, tokens and certificates are hub/enroll.
#include <chrono>
#include <functional>

#include "hub/http/api.hpp"

namespace lightbox::hub::http {

namespace {

constexpr std::string_view kEnrollPath = "/api/v1/enroll";
constexpr std::string_view kRenewPath = "/api/v1/enroll/renew";
constexpr std::size_t kMaxEnrollBytes = 64 * 1024;

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A string member of `j`, or invalid_argument naming it.
Result<std::string> string_field(const nlohmann::json& j, const char* name, bool required) {
  if (!j.contains(name)) {
    if (required) return fail(Errc::invalid_argument, "is required", name);
    return std::string();
  }
  if (!j[name].is_string()) return fail(Errc::invalid_argument, "must be a string", name);
  return j[name].get<std::string>();
}

// Buffers a small JSON body and hands the parsed object to `then`.
class EnrollBody final : public BodyHandler {
 public:
  using Then = std::function<Response(const nlohmann::json&)>;
  EnrollBody(Then then, log::Logger& log) : then_(std::move(then)), log_(log) {}
  Status write(const char* data, std::size_t n) override {
    if (body_.size() + n > kMaxEnrollBytes)
      return fail(Errc::payload_too_large, "enrollment request exceeds " + std::to_string(kMaxEnrollBytes) + " bytes");
    body_.append(data, n);
    return {};
  }
  Response finish() override {
    try {
      auto j = nlohmann::json::parse(body_, nullptr, false);
      if (!j.is_object()) return Response::error(fail(Errc::invalid_argument, "body is not a JSON object", "body"));
      return then_(j);
    } catch (const std::exception& e) {
      log_.error("hub.http", "unhandled exception", {{"where", "enroll.finish"}, {"what", e.what()}});
      return Response::error(fail(Errc::internal, "internal error"));
    }
  }

 private:
  Then then_;
  log::Logger& log_;
  std::string body_;
};

Response enroll_disabled() { return Response::error(fail(Errc::not_found, "enrollment is not enabled on this hub")); }

}  // namespace

Route match_enroll_route(std::string_view method, std::string_view path) {
  if (path == kEnrollPath) return method == "POST" ? Route::post_enroll : Route::method_not_allowed;
  if (path == kRenewPath) return method == "POST" ? Route::post_enroll_renew : Route::method_not_allowed;
  return Route::not_found;
}

Response auth_failure(const Error& e) {
  if (enroll::is_revocation(e)) {
    auto j = Error{Errc::forbidden, e.message, ""}.to_json();  // same shape as every error body
    j["error"] = std::string(enroll::kRevokedError);
    return Response::json(403, j);
  }
  return Response::error(e);
}

Dispatch Api::post_enroll(const Request&) {
  if (!enroll_) return Dispatch{enroll_disabled(), nullptr};
  auto then = [this](const nlohmann::json& j) -> Response {
    auto token = string_field(j, "token", true);
    if (!token) return Response::error(token.error());
    auto agent = string_field(j, "agent", false);
    if (!agent) return Response::error(agent.error());
    auto csr = string_field(j, "csr", true);
    if (!csr) return Response::error(csr.error());
    auto r = enroll_->enroll(*token, *agent, *csr, now_s());
    if (!r) {
      log_.warn("hub.enroll", "enrollment refused", {{"agent", *agent}, {"error", r.error().to_string()}});
      return Response::error(r.error());
    }
    log_.info("hub.enroll", "agent enrolled",
              {{"agent", r->agent}, {"institution", r->institution}, {"not_after", enroll::iso_utc(r->not_after)}});
    return Response::json(201, r->to_json());
  };
  return Dispatch{std::nullopt, std::make_unique<EnrollBody>(std::move(then), log_)};
}

Dispatch Api::post_enroll_renew(const Request& req) {
  if (!enroll_) return Dispatch{enroll_disabled(), nullptr};
  if (req.peer_cert_sha256.empty())
    return Dispatch{Response::error(fail(Errc::unauthorized,
                                         "renewal needs the current client certificate (mutual TLS)", "certificate")),
                    nullptr};
  auto then = [this, fp = req.peer_cert_sha256](const nlohmann::json& j) -> Response {
    auto csr = string_field(j, "csr", true);
    if (!csr) return Response::error(csr.error());
    auto r = enroll_->renew(fp, *csr, now_s());
    if (!r) {
      log_.warn("hub.enroll", "renewal refused", {{"fingerprint", fp}, {"error", r.error().to_string()}});
      return auth_failure(r.error());
    }
    log_.info("hub.enroll", "certificate renewed",
              {{"agent", r->agent}, {"institution", r->institution}, {"not_after", enroll::iso_utc(r->not_after)}});
    return Response::json(201, r->to_json());
  };
  return Dispatch{std::nullopt, std::make_unique<EnrollBody>(std::move(then), log_)};
}

Result<index::Credential> Api::authenticate_certificate(const Request& req) {
  return enroll_->authenticate(req.peer_cert_sha256, now_s());
}

}  // namespace lightbox::hub::http
