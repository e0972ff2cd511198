// The fleet routes of Api: POST /api/v1/heartbeats (agent credential), GET /api/v1/agents,
// GET /api/v1/agents/{id}, and the unauthenticated GET /metrics. Thin: storage and the health
// rule are hub/fleet.
#include <chrono>

#include "common/clock/clock.hpp"
#include "hub/http/api.hpp"

namespace lightbox::hub::http {

namespace {

constexpr std::string_view kHeartbeatsPath = "/api/v1/heartbeats";
constexpr std::string_view kAgentsPath = "/api/v1/agents";
constexpr std::string_view kMetricsPath = "/metrics";
constexpr std::size_t kMaxBeatBytes = 256 * 1024;
constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string iso(std::int64_t ms) { return clock::iso_utc(ms); }

Response fleet_disabled() {
  return Response::error(fail(Errc::not_found, "fleet endpoints are not enabled"));
}

// Buffers one heartbeat body, validates it and stores it under the credential's agent.
class HeartbeatUpload final : public BodyHandler {
 public:
  HeartbeatUpload(fleet::FleetRepository& repo, index::Credential who, log::Logger& log)
      : repo_(repo), who_(std::move(who)), log_(log) {}
  Status write(const char* data, std::size_t n) override {
    if (body_.size() + n > kMaxBeatBytes)
      return fail(Errc::payload_too_large, "heartbeat exceeds " + std::to_string(kMaxBeatBytes) + " bytes");
    body_.append(data, n);
    return {};
  }
  Response finish() override {
    try {
      auto j = nlohmann::json::parse(body_, nullptr, false);
      if (j.is_discarded()) return Response::error(fail(Errc::invalid_argument, "body is not JSON", "body"));
      auto beat = fleet::parse_heartbeat(j);
      if (!beat) return Response::error(beat.error());
      beat->agent = who_.agent;  // from the credential, never from the body
      beat->institution = who_.institution;
      beat->received_ms = now_ms();
      if (auto s = repo_.put(*beat); !s) return Response::error(s.error());
      return Response::json(200, {{"agent", beat->agent},
                                  {"received_at", iso(beat->received_ms)},
                                  {"clock_offset_s", beat->clock_offset_s()}});
    } catch (const std::exception& e) {
      log_.error("hub.http", "unhandled exception", {{"where", "heartbeat.finish"}, {"what", e.what()}});
      return Response::error(fail(Errc::internal, "internal error"));
    }
  }

 private:
  fleet::FleetRepository& repo_;
  index::Credential who_;
  std::string body_;
  log::Logger& log_;
};

using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

// The latency label of a route: a small fixed set, never a path.
fleet::RouteClass route_class(Route r) {
  switch (r) {
    case Route::health:
      return fleet::RouteClass::health;
    case Route::metrics:
      return fleet::RouteClass::metrics;
    case Route::put_object:
      return fleet::RouteClass::ingest;
    case Route::post_records:
      return fleet::RouteClass::records;
    case Route::get_object:
    case Route::list_studies:
    case Route::get_study:
    case Route::get_record_versions:
    case Route::list_exams:
    case Route::get_exam:
    case Route::list_tasks:
      return fleet::RouteClass::read;
    case Route::post_heartbeat:
      return fleet::RouteClass::heartbeat;
    case Route::list_agents:
    case Route::get_agent:
    case Route::list_institutions:
    case Route::agent_history:
    case Route::upload_stats:
      return fleet::RouteClass::fleet;
    case Route::dashboard_asset:
      return fleet::RouteClass::dashboard;
    case Route::list_alerts:
    case Route::ack_alert:
      return fleet::RouteClass::alerts;
    case Route::post_enroll:
    case Route::post_enroll_renew:
      return fleet::RouteClass::enroll;
    default:
      return fleet::RouteClass::other;
  }
}

// Counts one answer in /metrics: status class, latency by route class, accepted heartbeats.
void record_answer(fleet::Metrics& m, Route r, int status, SteadyClock::time_point started) {
  m.count(status);
  m.latency.observe_request(route_class(r), seconds_since(started));
  if (r == Route::post_heartbeat && status / 100 == 2) m.latency.count_heartbeat();
}

// Wraps a body handler so its final answer is counted in /metrics, with its latency (and, for an
// object PUT, the time from the last body byte to the receipt).
class CountedBody final : public BodyHandler {
 public:
  CountedBody(std::unique_ptr<BodyHandler> inner, fleet::Metrics& m, Route r, SteadyClock::time_point started)
      : inner_(std::move(inner)), m_(m), route_(r), started_(started) {}
  Status write(const char* data, std::size_t n) override {
    auto s = inner_->write(data, n);
    if (!s) record_answer(m_, route_, http_status(s.error().code), started_);
    return s;
  }
  Response finish() override {
    const auto body_done = SteadyClock::now();
    Response r = inner_->finish();
    if (route_ == Route::put_object) m_.latency.observe_ingest(seconds_since(body_done));
    record_answer(m_, route_, r.status, started_);
    return r;
  }

 private:
  std::unique_ptr<BodyHandler> inner_;
  fleet::Metrics& m_;
  Route route_;
  SteadyClock::time_point started_;
};

nlohmann::json summary_json(const fleet::AgentBeats& a, std::int64_t now) {
  auto health = fleet::assess(a.recent, now);
  nlohmann::json j{{"agent", a.agent},
                   {"institution", a.institution},
                   {"status", fleet::health_name(health.status)},
                   {"reasons", health.reasons},
                   {"last_seen", nullptr},
                   {"backlog_bytes", nullptr},
                   {"spool_free_bytes", nullptr},
                   {"spool_total_bytes", nullptr},
                   {"errors", nullptr},
                   {"clock_offset_s", nullptr},
                   {"version", nullptr}};
  if (!a.recent.empty()) {
    const auto& b = a.recent.front();
    j["last_seen"] = iso(b.received_ms);
    j["backlog_bytes"] = b.backlog_bytes;
    j["spool_free_bytes"] = b.spool_free;
    j["spool_total_bytes"] = b.spool_total;
    j["errors"] = b.errors;
    j["clock_offset_s"] = b.clock_offset_s();
    j["version"] = b.body.value("version", "");
    j["queue"] = b.body.value("queue", nlohmann::json::object());
  }
  return j;
}

}  // namespace

Route match_fleet_route(std::string_view method, std::string_view path, std::string& param) {
  param.clear();
  auto only = [&](std::string_view allowed, Route r) {
    return method == allowed ? r : Route::method_not_allowed;
  };
  if (path == kHeartbeatsPath) return only("POST", Route::post_heartbeat);
  if (path == kMetricsPath) return only("GET", Route::metrics);
  if (path == kAgentsPath || path == std::string(kAgentsPath) + "/") return only("GET", Route::list_agents);
  const std::string prefix = std::string(kAgentsPath) + "/";
  if (path.substr(0, prefix.size()) == prefix) {
    auto rest = path.substr(prefix.size());
    if (rest.find('/') != std::string_view::npos) return Route::not_found;
    param = url_decode(rest);
    return only("GET", Route::get_agent);
  }
  return Route::not_found;
}

Dispatch Api::counted(Dispatch d, Route r, std::chrono::steady_clock::time_point started) {
  if (!metrics_) return d;
  if (d.response) {
    record_answer(*metrics_, r, d.response->status, started);
    return d;
  }
  d.body = std::make_unique<CountedBody>(std::move(d.body), *metrics_, r, started);
  return d;
}

Dispatch Api::post_heartbeat(const Request& req, const index::Credential& who) {
  auto now = [](Response resp) { return Dispatch{std::move(resp), nullptr}; };
  if (!fleet_) return now(fleet_disabled());
  if (req.content_length && *req.content_length > kMaxBeatBytes)
    return now(Response::error(
        fail(Errc::payload_too_large, "heartbeat exceeds " + std::to_string(kMaxBeatBytes) + " bytes")));
  return Dispatch{std::nullopt, std::make_unique<HeartbeatUpload>(*fleet_, who, log_)};
}

Response Api::list_agents(const index::Credential& who) {
  if (!fleet_) return fleet_disabled();
  auto agents = fleet_->agents(who.institution);
  if (!agents) return Response::error(agents.error());
  const std::int64_t now = now_ms();
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& a : *agents) arr.push_back(summary_json(a, now));
  return Response::json(200, {{"agents", std::move(arr)}});
}

Response Api::get_agent(const index::Credential& who, const std::string& agent) {
  if (!fleet_) return fleet_disabled();
  auto a = fleet_->agent(who.institution, agent);
  if (!a) return Response::error(a.error());
  const std::int64_t now = now_ms();
  nlohmann::json j = summary_json(*a, now);
  j["latest"] = a->recent.empty() ? nlohmann::json(nullptr) : a->recent.front().body;
  auto hist = fleet_->history(agent, now - kDayMs);
  if (!hist) return Response::error(hist.error());
  std::int64_t items = 0, bytes = 0, errors = 0, max_backlog = 0;
  for (const auto& b : *hist) {
    items += b.uploaded_items;
    bytes += b.uploaded_bytes;
    errors += b.errors;
    max_backlog = std::max(max_backlog, b.backlog_bytes);
  }
  j["last_24h"] = {{"beats", static_cast<std::int64_t>(hist->size())},
                   {"first_beat",
                    hist->empty() ? nlohmann::json(nullptr) : nlohmann::json(iso(hist->front().received_ms))},
                   {"uploaded_items", items},
                   {"uploaded_bytes", bytes},
                   {"errors", errors},
                   {"max_backlog_bytes", max_backlog}};
  return Response::json(200, j);
}

Response Api::metrics() {
  if (!fleet_ || !metrics_) return fleet_disabled();
  auto text = fleet::render_metrics(*metrics_, *fleet_, now_ms());
  if (!text) return Response::error(text.error());
  Response r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = std::move(*text);
  return r;
}

}  // namespace lightbox::hub::http
