#include "hub/http/api.hpp"

#include <climits>

#include <strings.h>

#include "common/hash/sha256.hpp"
#include "common/wire/protocol.hpp"

namespace lightbox::hub::http {

namespace {

constexpr std::string_view kStudiesPrefix = "/api/v1/studies/";
constexpr std::int64_t kMaxListLimit = 1000;

Response internal_error(log::Logger& log, const char* where, const char* what) {
  log.error("hub.http", "unhandled exception", {{"where", where}, {"what", what}});
  return Response::error(fail(Errc::internal, "internal error"));
}

// Feeds the body into one ingest Upload and answers with its receipt.
class ObjectUpload final : public BodyHandler {
 public:
  ObjectUpload(std::unique_ptr<ingest::Upload> up, log::Logger& log) : up_(std::move(up)), log_(log) {}
  Status write(const char* data, std::size_t n) override {
    try {
      return up_->write(data, n);
    } catch (const std::exception& e) {
      log_.error("hub.http", "unhandled exception", {{"where", "upload.write"}, {"what", e.what()}});
      return fail(Errc::internal, "internal error");
    }
  }
  Response finish() override {
    try {
      auto r = up_->finish();
      if (!r) return Response::error(r.error());
      return Response::json(r->outcome == wire::StoreOutcome::Stored ? 201 : 200, r->to_json());
    } catch (const std::exception& e) {
      return internal_error(log_, "upload.finish", e.what());
    }
  }

 private:
  std::unique_ptr<ingest::Upload> up_;
  log::Logger& log_;
};

}  // namespace

Route match_route(std::string_view method, std::string_view path, std::string& param) {
  param.clear();
  auto only = [&](std::string_view allowed, Route r) {
    return method == allowed ? r : Route::method_not_allowed;
  };
  if (path == wire::kHealthPath) return only("GET", Route::health);
  if (path.substr(0, wire::kObjectsPath.size()) == wire::kObjectsPath) {
    auto rest = path.substr(wire::kObjectsPath.size());
    if (rest.empty() || rest.find('/') != std::string_view::npos) return Route::not_found;
    param = std::string(rest);
    if (method == "PUT") return Route::put_object;
    if (method == "GET") return Route::get_object;
    return Route::method_not_allowed;
  }
  if (path == wire::kStudiesPath || path == std::string(wire::kStudiesPath) + "/")
    return only("GET", Route::list_studies);
  if (path.substr(0, kStudiesPrefix.size()) == kStudiesPrefix) {
    auto rest = path.substr(kStudiesPrefix.size());
    if (rest.find('/') != std::string_view::npos) return Route::not_found;
    param = url_decode(rest);
    return only("GET", Route::get_study);
  }
  Route r = match_records_route(method, path, param);
  if (r != Route::not_found) return r;
  r = match_fleet_route(method, path, param);
  if (r != Route::not_found) return r;
  r = match_enroll_route(method, path);
  if (r != Route::not_found) return r;
  r = match_alert_route(method, path, param);
  if (r != Route::not_found) return r;
  return match_dashboard_route(method, path, param);
}

Dispatch Api::begin(const Request& req) {
  try {
    const auto started = std::chrono::steady_clock::now();
    std::string param;
    return counted(route(req), match_route(req.method, req.path(), param), started);
  } catch (const std::exception& e) {
    return Dispatch{internal_error(log_, "route", e.what()), nullptr};
  }
}

Response Api::handle(const Request& req, std::string_view body, std::size_t chunk) {
  Dispatch d = begin(req);
  if (d.response) return std::move(*d.response);
  for (std::size_t off = 0; off < body.size(); off += chunk) {
    auto n = std::min(chunk, body.size() - off);
    if (auto s = d.body->write(body.data() + off, n); !s) return Response::error(s.error());
  }
  return d.body->finish();
}

Dispatch Api::route(const Request& req) {
  std::string param;
  Route r = match_route(req.method, req.path(), param);
  auto now = [](Response resp) { return Dispatch{std::move(resp), nullptr}; };
  switch (r) {
    case Route::not_found:
      return now(Response::error(fail(Errc::not_found, "no such endpoint: " + std::string(req.path()))));
    case Route::method_not_allowed:
      return now(Response::json(
          405, Error{Errc::invalid_argument,
                     "method " + req.method + " not allowed on " + std::string(req.path()), "method"}
                   .to_json()));
    case Route::health:
      return now(Response::json(200, {{"status", "ok"}, {"version", version_}}));
    case Route::metrics: {
      Response m = metrics();
      append_alert_metrics(m);
      return now(std::move(m));
    }
    case Route::dashboard_asset:
      return now(dashboard_asset(param));
    case Route::post_enroll:  // the one-time token in the body is the credential
      return post_enroll(req);
    case Route::post_enroll_renew:  // the client certificate is the credential
      return post_enroll_renew(req);
    default:
      break;
  }
  auto who = authenticate(req);
  if (!who) return now(auth_failure(who.error()));
  if (who->role == index::Role::ops && agent_only(r))
    return now(Response::error(fail(
        Errc::forbidden, "an operator credential cannot use " + std::string(req.path()), "Authorization")));
  switch (r) {
    case Route::put_object:
      return put_object(req, *who, param);
    case Route::get_object:
      return now(get_object(*who, param));
    case Route::list_studies:
      return now(list_studies(req, *who));
    case Route::get_study:
      return now(get_study(*who, param));
    case Route::post_records:
      return post_records(req, *who);
    case Route::get_record_versions:
      return now(get_record_versions(*who, param));
    case Route::list_exams:
      return now(list_exams(req, *who));
    case Route::get_exam:
      return now(get_exam(*who, param));
    case Route::list_tasks:
      return now(list_tasks(req, *who));
    case Route::post_heartbeat:
      return post_heartbeat(req, *who);
    case Route::list_agents:
      return now(list_agents(*who));
    case Route::get_agent:
      return now(get_agent(*who, param));
    case Route::list_alerts:
      return now(list_alerts(req, *who));
    case Route::ack_alert:
      return ack_alert(req, *who, param);
    case Route::list_institutions:
      return now(list_institutions(*who));
    case Route::agent_history:
      return now(agent_history(req, *who, param));
    case Route::upload_stats:
      return now(upload_stats(req, *who));
    default:
      return now(Response::error(fail(Errc::internal, "unrouted request")));
  }
}

Result<index::Credential> Api::authenticate(const Request& req) {
  // A client certificate that verified against the hub CA decides alone: a revoked one is
  // refused even when a bearer token comes with it.
  if (enroll_ && !req.peer_cert_sha256.empty()) {
    auto cred = authenticate_certificate(req);
    if (cred && req.has_header(wire::kHeaderAgent) && req.header(wire::kHeaderAgent) != cred->agent)
      return fail(Errc::forbidden, "the client certificate belongs to another agent", std::string(wire::kHeaderAgent));
    return cred;
  }
  std::string auth = req.header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.size() <= kBearer.size() || ::strncasecmp(auth.c_str(), kBearer.data(), kBearer.size()) != 0)
    return fail(Errc::unauthorized, "missing bearer token", "Authorization");
  // Only the token's hash is ever compared or stored; the token itself is never logged.
  auto cred = repo_.find_credential(hash::sha256_hex(std::string_view(auth).substr(kBearer.size())));
  if (!cred) {
    if (cred.error().code == Errc::not_found)
      return fail(Errc::unauthorized, "unknown credential", "Authorization");
    return std::move(cred).error();
  }
  if (cred->revoked) return fail(Errc::unauthorized, "credential revoked", "Authorization");
  if (req.has_header(wire::kHeaderAgent) && req.header(wire::kHeaderAgent) != cred->agent)
    return fail(Errc::forbidden, "the credential belongs to another agent", std::string(wire::kHeaderAgent));
  return cred;
}

Dispatch Api::put_object(const Request& req, const index::Credential& who, const std::string& sha) {
  auto now = [](Response resp) { return Dispatch{std::move(resp), nullptr}; };
  if (!hash::is_sha256_hex(sha))
    return now(Response::error(
        fail(Errc::invalid_argument, "object name must be 64 lowercase hex characters", "sha256")));
  auto kind = wire::parse_object_kind(req.header(wire::kHeaderKind));
  if (!kind)
    return now(Response::error(
        fail(Errc::invalid_argument, "must be 'dicom' or 'attachment'", std::string(wire::kHeaderKind))));
  if (req.content_length && *req.content_length > pipeline_.max_body_bytes())
    return now(Response::error(
        fail(Errc::payload_too_large,
             "body exceeds the limit of " + std::to_string(pipeline_.max_body_bytes()) + " bytes")));
  ingest::PutRequest put;
  put.sha256 = sha;
  put.kind = *kind;
  put.content_type = req.header("Content-Type");
  put.filename = req.header(wire::kHeaderFilename);
  put.source = req.header(wire::kHeaderSource);
  put.institution = who.institution;
  put.agent = who.agent;
  auto up = pipeline_.begin(std::move(put));
  if (!up) return now(Response::error(up.error()));
  return Dispatch{std::nullopt, std::make_unique<ObjectUpload>(std::move(*up), log_)};
}

Response Api::get_object(const index::Credential& who, const std::string& sha) {
  if (!hash::is_sha256_hex(sha))
    return Response::error(
        fail(Errc::invalid_argument, "object name must be 64 lowercase hex characters", "sha256"));
  auto info = repo_.find_object(sha, who.institution);
  if (!info) return Response::error(info.error());
  auto blob = store_.open(sha);
  if (!blob) {
    // Indexed but missing bytes is damage, not a client error.
    if (blob.error().code == Errc::not_found)
      log_.error("hub.http", "indexed object missing from the store", {{"sha256", sha}});
    return Response::error(blob.error().code == Errc::not_found
                               ? fail(Errc::internal, "object bytes unavailable")
                               : blob.error());
  }
  Response r;
  r.content_type = info->content_type.empty() ? "application/octet-stream" : info->content_type;
  if (blob->file_path.empty()) {
    r.body = std::move(blob->bytes);
  } else {
    r.file_path = blob->file_path;
    r.file_size = blob->size;
  }
  return r;
}

Response Api::list_studies(const Request& req, const index::Credential& who) {
  index::StudyQuery q;
  auto query = req.query();
  q.patient_id = query_param(query, "patient_id").value_or("");
  auto limit = int_param(query, "limit", 100, 1, kMaxListLimit);
  if (!limit) return Response::error(limit.error());
  auto offset = int_param(query, "offset", 0, 0, INT64_MAX);
  if (!offset) return Response::error(offset.error());
  q.limit = *limit;
  q.offset = *offset;
  auto studies = repo_.list_studies(who.institution, q);
  if (!studies) return Response::error(studies.error());
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& s : *studies) arr.push_back(to_json(s));
  return Response::json(200, {{"studies", std::move(arr)}});
}

Response Api::get_study(const index::Credential& who, const std::string& uid) {
  auto d = repo_.get_study(who.institution, uid);
  if (!d) return Response::error(d.error());
  return Response::json(200, to_json(*d));
}

nlohmann::json to_json(const index::StudySummary& s) {
  return {{"study_uid", s.study_uid},
          {"patient_id", s.patient_id},
          {"patient_name", s.patient_name},
          {"study_date", s.study_date},
          {"accession_number", s.accession_number},
          {"modalities", s.modalities},
          {"series_count", s.series_count},
          {"instance_count", s.instance_count},
          {"institution", s.institution}};
}

nlohmann::json to_json(const index::StudyDetail& d) {
  nlohmann::json j = to_json(d.study);
  nlohmann::json series = nlohmann::json::array();
  for (const auto& se : d.series) {
    nlohmann::json inst = nlohmann::json::array();
    for (const auto& i : se.instances)
      inst.push_back({{"sop_instance_uid", i.sop_instance_uid},
                      {"sop_class_uid", i.sop_class_uid},
                      {"instance_number", i.instance_number},
                      {"sha256", i.sha256},
                      {"size", i.size},
                      {"transfer_syntax_uid", i.transfer_syntax_uid}});
    series.push_back({{"series_uid", se.series_uid},
                      {"modality", se.modality},
                      {"series_number", se.series_number},
                      {"description", se.description},
                      {"instances", std::move(inst)}});
  }
  j["series"] = std::move(series);
  return j;
}

}  // namespace lightbox::hub::http
