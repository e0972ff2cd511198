// The alert routes of Api (ops role only): GET /api/v1/alerts?state=active|all&limit=N and
// POST /api/v1/alerts/{id}/ack with an optional {"note": "..."}; plus alerting's /metrics lines.
// Thin: rules, state and delivery are hub/alerts.
#include "common/clock/clock.hpp"
#include "hub/alerts/service.hpp"
#include "hub/http/api.hpp"

namespace lightbox::hub::http {

namespace {

constexpr std::string_view kAlertsPath = "/api/v1/alerts";
constexpr std::string_view kAckSuffix = "/ack";
constexpr std::size_t kMaxAckBytes = 4096;

Response alerts_disabled() {
  return Response::error(fail(Errc::not_found, "alerts are not configured on this hub"));
}

Status require_ops(const index::Credential& who) {
  if (who.role != index::Role::ops)
    return fail(Errc::forbidden, "alerts are for the ops role; this credential is an agent's",
                "Authorization");
  return {};
}

// Buffers the optional {"note": "..."} and acknowledges the alert.
class AckBody final : public BodyHandler {
 public:
  AckBody(alerts::AlertStore& store, std::int64_t id, std::string who, log::Logger& log)
      : store_(store), id_(id), who_(std::move(who)), log_(log) {}
  Status write(const char* data, std::size_t n) override {
    if (body_.size() + n > kMaxAckBytes)
      return fail(Errc::payload_too_large, "ack body exceeds " + std::to_string(kMaxAckBytes) + " bytes");
    body_.append(data, n);
    return {};
  }
  Response finish() override {
    try {
      std::string note;
      if (body_.find_first_not_of(" \t\r\n") != std::string::npos) {
        auto j = nlohmann::json::parse(body_, nullptr, false);
        if (j.is_discarded() || !j.is_object())
          return Response::error(fail(Errc::invalid_argument, "body must be a JSON object", "body"));
        if (j.contains("note")) {
          if (!j["note"].is_string())
            return Response::error(fail(Errc::invalid_argument, "must be a string", "note"));
          note = j["note"].get<std::string>();
        }
      }
      auto a = store_.ack(id_, who_, note, clock::now_ms());
      if (!a) return Response::error(a.error());
      log_.info("hub.alerts", "alert acknowledged", {{"id", id_}, {"by", who_}});
      return Response::json(200, alerts::to_json(*a));
    } catch (const std::exception& e) {
      log_.error("hub.http", "unhandled exception", {{"where", "alert.ack"}, {"what", e.what()}});
      return Response::error(fail(Errc::internal, "internal error"));
    }
  }

 private:
  alerts::AlertStore& store_;
  std::int64_t id_;
  std::string who_;
  std::string body_;
  log::Logger& log_;
};

}  // namespace

Route match_alert_route(std::string_view method, std::string_view path, std::string& param) {
  param.clear();
  if (path == kAlertsPath || path == std::string(kAlertsPath) + "/")
    return method == "GET" ? Route::list_alerts : Route::method_not_allowed;
  const std::string prefix = std::string(kAlertsPath) + "/";
  if (path.substr(0, prefix.size()) != prefix) return Route::not_found;
  auto rest = path.substr(prefix.size());
  if (rest.size() <= kAckSuffix.size() || rest.substr(rest.size() - kAckSuffix.size()) != kAckSuffix)
    return Route::not_found;
  rest.remove_suffix(kAckSuffix.size());
  if (rest.find('/') != std::string_view::npos) return Route::not_found;
  param = std::string(rest);
  return method == "POST" ? Route::ack_alert : Route::method_not_allowed;
}

Response Api::list_alerts(const Request& req, const index::Credential& who) {
  if (!alerts_) return alerts_disabled();
  if (auto s = require_ops(who); !s) return Response::error(s.error());
  auto query = req.query();
  const std::string state = query_param(query, "state").value_or("active");
  if (state != "active" && state != "all")
    return Response::error(fail(Errc::invalid_argument, "must be 'active' or 'all'", "state"));
  auto limit = int_param(query, "limit", 100, 1, 1000);
  if (!limit) return Response::error(limit.error());
  auto active = alerts_->store().list(true, *limit);
  if (!active) return Response::error(active.error());
  nlohmann::json a = nlohmann::json::array(), h = nlohmann::json::array();
  for (const auto& x : *active) a.push_back(alerts::to_json(x));
  if (state == "all") {
    auto hist = alerts_->store().list(false, *limit);
    if (!hist) return Response::error(hist.error());
    for (const auto& x : *hist) h.push_back(alerts::to_json(x));
  }
  return Response::json(200, {{"active", std::move(a)}, {"history", std::move(h)}});
}

Dispatch Api::ack_alert(const Request& req, const index::Credential& who, const std::string& id) {
  auto now = [](Response resp) { return Dispatch{std::move(resp), nullptr}; };
  if (!alerts_) return now(alerts_disabled());
  if (auto s = require_ops(who); !s) return now(Response::error(s.error()));
  std::int64_t n = 0;
  bool digits = !id.empty() && id.size() <= 18 && id.find_first_not_of("0123456789") == std::string::npos;
  if (digits) n = std::stoll(id);
  if (!digits || n <= 0) return now(Response::error(fail(Errc::not_found, "no alert '" + id + "'", "id")));
  if (req.content_length && *req.content_length > kMaxAckBytes)
    return now(Response::error(
        fail(Errc::payload_too_large, "ack body exceeds " + std::to_string(kMaxAckBytes) + " bytes")));
  return Dispatch{std::nullopt, std::make_unique<AckBody>(alerts_->store(), n, who.agent, log_)};
}

void Api::append_alert_metrics(Response& r) {
  if (!alerts_ || r.status != 200) return;
  r.body += alerts_->metrics_text();
}

}  // namespace lightbox::hub::http
