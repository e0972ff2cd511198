// The dashboard routes of Api (issue 4): the embedded page under /dashboard/ (no credential: it asks
// for the ops token itself), and its data routes GET /api/v1/institutions, GET /api/v1/stats/uploads
// (ops role only) and GET /api/v1/agents/{id}/history (ops: any agent; agent credential: its own
// institution's agents). Thin: downsampling and the statistics queries are hub/dashboard.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>

#include "hub/dashboard/assets.hpp"
#include "hub/dashboard/history.hpp"
#include "hub/http/api.hpp"

namespace lightbox::hub::http {

namespace {

constexpr std::string_view kDashboardPath = "/dashboard";
constexpr std::string_view kInstitutionsPath = "/api/v1/institutions";
constexpr std::string_view kUploadStatsPath = "/api/v1/stats/uploads";
constexpr std::string_view kAgentsPrefix = "/api/v1/agents/";
constexpr std::string_view kHistorySuffix = "/history";
constexpr std::int64_t kHourMs = 3600LL * 1000;
constexpr std::int64_t kDayMs = 24 * kHourMs;

// Strict: only our own scripts, styles and API; no inline code, no framing, no foreign origins.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string utc_day(std::int64_t ms) { return dashboard::iso_utc(ms).substr(0, 10); }

Response dashboard_disabled() {
  return Response::error(fail(Errc::not_found, "dashboard endpoints are not enabled"));
}

std::optional<Response> require_ops(const index::Credential& who) {
  if (who.role == index::Role::ops) return std::nullopt;
  return Response::error(
      fail(Errc::forbidden, "this endpoint needs an operator (ops) credential", "Authorization"));
}

}  // namespace

bool agent_only(Route r) {
  switch (r) {
    case Route::put_object:
    case Route::get_object:
    case Route::list_studies:
    case Route::get_study:
    case Route::post_records:
    case Route::get_record_versions:
    case Route::list_exams:
    case Route::get_exam:
    case Route::list_tasks:
    case Route::post_heartbeat:
      return true;
    default:
      return false;
  }
}

Route match_dashboard_route(std::string_view method, std::string_view path, std::string& param) {
  param.clear();
  auto only = [&](std::string_view allowed, Route r) {
    return method == allowed ? r : Route::method_not_allowed;
  };
  if (path == kDashboardPath) return only("GET", Route::dashboard_asset);
  if (path.substr(0, kDashboardPath.size() + 1) == std::string(kDashboardPath) + "/") {
    auto rest = path.substr(kDashboardPath.size() + 1);
    if (rest.find('/') != std::string_view::npos) return Route::not_found;
    param = std::string(rest);
    return only("GET", Route::dashboard_asset);
  }
  if (path == kInstitutionsPath) return only("GET", Route::list_institutions);
  if (path == kUploadStatsPath) return only("GET", Route::upload_stats);
  if (path.substr(0, kAgentsPrefix.size()) == kAgentsPrefix &&
      path.size() > kAgentsPrefix.size() + kHistorySuffix.size() &&
      path.substr(path.size() - kHistorySuffix.size()) == kHistorySuffix) {
    auto id = path.substr(kAgentsPrefix.size(), path.size() - kAgentsPrefix.size() - kHistorySuffix.size());
    if (id.find('/') != std::string_view::npos) return Route::not_found;
    param = url_decode(id);
    return only("GET", Route::agent_history);
  }
  return Route::not_found;
}

Response Api::dashboard_asset(const std::string& file) {
  const auto* a = dashboard::find_asset(file);
  if (!a) return Response::error(fail(Errc::not_found, "no dashboard file '" + file + "'"));
  Response r;
  r.content_type = std::string(a->content_type);
  r.body = std::string(a->bytes);
  // Not fingerprinted file names: revalidate every time (the files are small).
  r.headers = {{"Cache-Control", "no-cache"},
               {"Content-Security-Policy", std::string(kContentSecurityPolicy)},
               {"X-Content-Type-Options", "nosniff"},
               {"X-Frame-Options", "DENY"},
               {"Referrer-Policy", "no-referrer"}};
  return r;
}

Response Api::list_institutions(const index::Credential& who) {
  if (auto refused = require_ops(who)) return std::move(*refused);
  if (!fleet_ || !stats_) return dashboard_disabled();
  auto institutions = repo_.list_institutions();
  if (!institutions) return Response::error(institutions.error());
  auto agents = fleet_->agents("");
  if (!agents) return Response::error(agents.error());
  auto uploads = stats_->agent_uploads();
  if (!uploads) return Response::error(uploads.error());
  struct Counts {
    std::int64_t agents = 0, healthy = 0, degraded = 0, offline = 0;
    std::string last_upload;
  };
  std::map<std::string, Counts> by_inst;
  const std::int64_t now = now_ms();
  for (const auto& a : *agents) {
    auto& c = by_inst[a.institution];
    ++c.agents;
    switch (fleet::assess(a.recent, now).status) {
      case fleet::Health::healthy:
        ++c.healthy;
        break;
      case fleet::Health::degraded:
        ++c.degraded;
        break;
      case fleet::Health::offline:
        ++c.offline;
        break;
    }
  }
  for (const auto& u : *uploads) {
    auto& c = by_inst[u.institution];
    if (u.last_upload_at > c.last_upload) c.last_upload = u.last_upload_at;
  }
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& i : *institutions) {
    const auto& c = by_inst[i.id];
    arr.push_back(
        {{"id", i.id},
         {"name", i.name},
         {"created_at", i.created_at},
         {"agents", c.agents},
         {"healthy", c.healthy},
         {"degraded", c.degraded},
         {"offline", c.offline},
         {"last_upload", c.last_upload.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.last_upload)}});
  }
  return Response::json(200, {{"institutions", std::move(arr)}});
}

Response Api::agent_history(const Request& req, const index::Credential& who, const std::string& agent) {
  if (!fleet_) return dashboard_disabled();
  auto hours = int_param(req.query(), "hours", 24, 1, 168);
  if (!hours) return Response::error(hours.error());
  // Visibility as GET /api/v1/agents/{id}: ops (institution "") sees every agent.
  auto a = fleet_->agent(who.institution, agent);
  if (!a) return Response::error(a.error());
  const std::int64_t now = now_ms();
  const std::int64_t since = now - *hours * kHourMs;
  auto beats = fleet_->history(agent, since);
  if (!beats) return Response::error(beats.error());
  nlohmann::json j = dashboard::to_json(dashboard::downsample(*beats, since, now));
  j["agent"] = a->agent;
  j["institution"] = a->institution;
  j["hours"] = *hours;
  return Response::json(200, j);
}

Response Api::upload_stats(const Request& req, const index::Credential& who) {
  if (auto refused = require_ops(who)) return std::move(*refused);
  if (!stats_) return dashboard_disabled();
  auto days = int_param(req.query(), "days", 7, 1, 90);
  if (!days) return Response::error(days.error());
  const std::int64_t now = now_ms();
  nlohmann::json day_list = nlohmann::json::array();
  for (std::int64_t d = *days - 1; d >= 0; --d) day_list.push_back(utc_day(now - d * kDayMs));
  const std::string since = day_list.front().get<std::string>();
  auto daily = stats_->uploads_per_day(since);
  if (!daily) return Response::error(daily.error());
  auto agents = stats_->agent_uploads();
  if (!agents) return Response::error(agents.error());
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& d : *daily)
    rows.push_back({{"institution", d.institution}, {"day", d.day}, {"items", d.items}, {"bytes", d.bytes}});
  nlohmann::json per_agent = nlohmann::json::array();
  for (const auto& u : *agents)
    per_agent.push_back({{"agent", u.agent},
                         {"institution", u.institution},
                         {"last_upload", u.last_upload_at},
                         {"items", u.items}});
  return Response::json(200, {{"days", *days},
                              {"since", since},
                              {"day_list", std::move(day_list)},
                              {"daily", std::move(rows)},
                              {"agents", std::move(per_agent)}});
}

}  // namespace lightbox::hub::http
