#pragma once
// The hub's API over real SQLite repositories in a scratch directory and an in-memory object
// store, driven through Api::handle without sockets. Route tests derive their fixture from it
// and switch on the parts they test (set_fleet, set_dashboard, set_alerts, set_enroll).
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/log/logger.hpp"
#include "hub/fleet/metrics.hpp"
#include "hub/fleet/repository.hpp"
#include "hub/http/api.hpp"
#include "hub/index/record_repository.hpp"
#include "hub/index/repository.hpp"
#include "hub/ingest/pipeline.hpp"
#include "hub/records/service.hpp"
#include "hub/store/object_store.hpp"
#include "tests/unit/hub/test_support.hpp"

namespace lightbox::hub::test {

/// Every collaborator of http::Api, real except the object store.
struct ApiFixture {
  ScratchDir dir;
  log::Logger log{log::Level::off};
  store::MemoryObjectStore store{dir / "staging"};
  std::unique_ptr<index::SqliteRepository> repo = index::SqliteRepository::open(dir / "index.db").value();
  std::unique_ptr<index::SqliteRecordRepository> record_repo =
      index::SqliteRecordRepository::open(dir / "index.db").value();
  std::unique_ptr<fleet::FleetRepository> fleet_repo = fleet::FleetRepository::open(dir / "index.db").value();
  fleet::Metrics metrics;
  records::RecordService records{*record_repo, log};
  ingest::Pipeline pipeline{store, *repo, log, 1 << 20};
  http::Api api{pipeline, *repo, store, records, log, "1.2.3"};

  /// A request head; `token` (if any) goes into Authorization as a bearer token.
  static http::Request req(std::string method, std::string target, const std::string& token) {
    http::Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    if (!token.empty()) r.headers.emplace_back("authorization", "Bearer " + token);
    return r;
  }
  /// The whole request through the API, the body fed in chunks of `chunk` bytes.
  http::Response call(std::string method, std::string target, const std::string& token,
                      std::string_view body = {}, std::size_t chunk = 65536) {
    auto r = req(std::move(method), std::move(target), token);
    if (!body.empty()) r.content_length = body.size();
    return api.handle(r, body, chunk);
  }
  /// A valid heartbeat body with an idle queue and no errors; tests change what they test.
  static nlohmann::json heartbeat_body(std::int64_t clock_ms) {
    return {{"version", "1.0"},
            {"interval_seconds", 30},
            {"uptime_s", 5},
            {"clock_ms", clock_ms},
            {"queue", nlohmann::json::object()},
            {"backlog_bytes", 0},
            {"uploaded", {{"items", 0}, {"bytes", 0}}},
            {"errors", nlohmann::json::object()},
            {"sources", nlohmann::json::array()},
            {"spool", {{"total_bytes", 1000}, {"free_bytes", 500}, {"disk_full", false}}}};
  }
};

/// The response body as JSON.
inline nlohmann::json json_of(const http::Response& r) { return nlohmann::json::parse(r.body); }

}  // namespace lightbox::hub::test
