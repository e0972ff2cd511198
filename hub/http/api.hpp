#pragma once
// The hub's HTTP API: routes a request head to its handler, authenticates the bearer token,
// and turns every failure into the JSON error body. No sockets here: the Beast server (or a
// test) feeds it Requests and body chunks.
#include <chrono>
#include <string>
#include <string_view>

#include "common/log/logger.hpp"
#include "hub/dashboard/stats.hpp"
#include "hub/enroll/service.hpp"
#include "hub/http/message.hpp"
#include "hub/fleet/metrics.hpp"
#include "hub/fleet/repository.hpp"
#include "hub/index/repository.hpp"
#include "hub/ingest/pipeline.hpp"
#include "hub/records/service.hpp"
#include "hub/store/object_store.hpp"

namespace lightbox::hub::alerts {
class AlertService;
}  // namespace lightbox::hub::alerts

namespace lightbox::hub::http {

/// What a request is, decided from its method and path alone.
enum class Route {
  health,
  put_object,
  get_object,
  list_studies,
  get_study,
  post_records,
  get_record_versions,
  list_exams,
  get_exam,
  list_tasks,
  post_heartbeat,
  list_agents,
  get_agent,
  metrics,
  dashboard_asset,
  list_institutions,
  agent_history,
  upload_stats,
  post_enroll,
  post_enroll_renew,
  list_alerts,
  ack_alert,
  not_found,
  method_not_allowed
};

/// The route for (method, path); `param` receives the {sha256} / {uid} path segment.
Route match_route(std::string_view method, std::string_view path, std::string& param);
/// The records routes (records_routes.cpp); `param` receives "{kind}/{key}" (raw) or the exam key.
Route match_records_route(std::string_view method, std::string_view path, std::string& param);
/// The fleet routes (fleet_routes.cpp); `param` receives the agent id of /api/v1/agents/{id}.
Route match_fleet_route(std::string_view method, std::string_view path, std::string& param);
/// The alert routes (alert_routes.cpp); `param` receives the id of /api/v1/alerts/{id}/ack.
Route match_alert_route(std::string_view method, std::string_view path, std::string& param);
/// The dashboard routes (dashboard_routes.cpp): /dashboard/..., institutions, agent history, upload
/// stats; `param` receives the file name or the agent id.
Route match_dashboard_route(std::string_view method, std::string_view path, std::string& param);
/// The enrollment routes (enroll_routes.cpp): POST /api/v1/enroll and /api/v1/enroll/renew.
Route match_enroll_route(std::string_view method, std::string_view path);
/// The error response of a failed authentication: a revocation is 403 {"error":"revoked"}.
Response auth_failure(const Error& e);
/// Routes an ops credential may not use (uploads, records, studies, heartbeats): 403 for ops.
bool agent_only(Route r);

/// The API handlers. Thread-safe; owns none of its collaborators.
class Api {
 public:
  Api(ingest::Pipeline& pipeline, index::Repository& repo, store::ObjectStore& store,
      records::RecordService& records, log::Logger& log, std::string version)
      : pipeline_(pipeline),
        repo_(repo),
        store_(store),
        records_(records),
        log_(log),
        version_(std::move(version)) {}

  /// Decides from the head: an immediate response, or a handler for the body. Never throws.
  Dispatch begin(const Request& req);
  /// Whole-request convenience (tests): begin, feed `body` in chunks of `chunk`, finish.
  Response handle(const Request& req, std::string_view body = {}, std::size_t chunk = 65536);
  /// Enables the alert routes and their /metrics lines (without it the routes answer 404).
  void set_alerts(alerts::AlertService* alerts) { alerts_ = alerts; }
  /// Enables the fleet routes and /metrics (without it they answer 404). Call before serving.
  void set_fleet(fleet::FleetRepository* repo, fleet::Metrics* metrics) {
    fleet_ = repo;
    metrics_ = metrics;
  }
  /// Enables the dashboard's data routes (institutions, agent history, upload stats). Call before serving.
  void set_dashboard(dashboard::StatsRepository* stats) { stats_ = stats; }
  /// Enables enrollment and client-certificate authentication (without it: 404 / bearer only).
  void set_enroll(enroll::EnrollService* enroll) { enroll_ = enroll; }

 private:
  Dispatch route(const Request& req);
  Result<index::Credential> authenticate(const Request& req);
  Dispatch put_object(const Request& req, const index::Credential& who, const std::string& sha);
  Response get_object(const index::Credential& who, const std::string& sha);
  Response list_studies(const Request& req, const index::Credential& who);
  Response get_study(const index::Credential& who, const std::string& uid);
  // Records routes, in records_routes.cpp.
  Dispatch post_records(const Request& req, const index::Credential& who);
  Response get_record_versions(const index::Credential& who, const std::string& kind_and_key);
  Response list_exams(const Request& req, const index::Credential& who);
  Response get_exam(const index::Credential& who, const std::string& key);
  Response list_tasks(const Request& req, const index::Credential& who);
  // Fleet routes, in fleet_routes.cpp.
  Dispatch post_heartbeat(const Request& req, const index::Credential& who);
  Response list_agents(const index::Credential& who);
  Response get_agent(const index::Credential& who, const std::string& agent);
  Response metrics();
  // Alert routes, in alert_routes.cpp.
  Response list_alerts(const Request& req, const index::Credential& who);
  Dispatch ack_alert(const Request& req, const index::Credential& who, const std::string& id);
  void append_alert_metrics(Response& r);
  Dispatch counted(Dispatch d, Route r, std::chrono::steady_clock::time_point started);
  // Dashboard routes, in dashboard_routes.cpp.
  Response dashboard_asset(const std::string& file);
  Response list_institutions(const index::Credential& who);
  Response agent_history(const Request& req, const index::Credential& who, const std::string& agent);
  Response upload_stats(const Request& req, const index::Credential& who);
  // Enrollment routes, in enroll_routes.cpp.
  Dispatch post_enroll(const Request& req);
  Dispatch post_enroll_renew(const Request& req);
  Result<index::Credential> authenticate_certificate(const Request& req);

  ingest::Pipeline& pipeline_;
  index::Repository& repo_;
  store::ObjectStore& store_;
  records::RecordService& records_;
  log::Logger& log_;
  std::string version_;
  fleet::FleetRepository* fleet_ = nullptr;
  fleet::Metrics* metrics_ = nullptr;
  alerts::AlertService* alerts_ = nullptr;
  dashboard::StatsRepository* stats_ = nullptr;
  enroll::EnrollService* enroll_ = nullptr;
};

/// JSON shapes of the study endpoints (contract: "GET /api/v1/studies").
nlohmann::json to_json(const index::StudySummary& s);
nlohmann::json to_json(const index::StudyDetail& d);

}  // namespace lightbox::hub::http
