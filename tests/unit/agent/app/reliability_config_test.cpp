#include "agent/app/config.hpp"

#include <doctest/doctest.h>

using namespace lightbox;
using namespace lightbox::agent;

namespace {

app::AgentConfig parse(const std::string& upload_and_agent, config::Problems& p) {
  std::string text = R"({"hub": {"url": "https://127.0.0.1:8443", "token": "t"},
    "sources": [{"name": "ct", "kind": "folder", "path": "/data/ct"}], )" + upload_and_agent + "}";
  auto j = config::load_text(text, p);
  REQUIRE(j.ok());
  return app::parse_config(*j, p);
}

bool has_problem(const config::Problems& p, const std::string& field) {
  for (const auto& e : p.list())
    if (e.field == field) return true;
  return false;
}

}  // namespace

TEST_CASE("upload.bandwidth, stop_grace_seconds and agent.min_free_mb are read") {
  config::Problems p;
  auto cfg = parse(R"("agent": {"id": "a", "data_dir": "/d", "min_free_mb": 512},
    "upload": {"stop_grace_seconds": 30, "bandwidth": {"default_mbps": 0, "windows": [
      {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00", "mbps": 20}]}})",
                   p);
  CHECK_MESSAGE(p.empty(), p.to_string());
  CHECK(cfg.min_free_mb == 512);
  CHECK(cfg.upload.stop_grace_seconds == 30);
  REQUIRE(cfg.upload.bandwidth.windows.size() == 1);
  const auto& w = cfg.upload.bandwidth.windows[0];
  CHECK(w.days == std::vector<int>{1, 2, 3, 4, 5});
  CHECK(w.start_minute == 480);
  CHECK(w.end_minute == 1080);
  CHECK(w.mbps == 20);
  CHECK_FALSE(cfg.upload.bandwidth.unlimited());
}

TEST_CASE("defaults: unlimited, 10 s grace, 256 MB reserve") {
  config::Problems p;
  auto cfg = parse(R"("agent": {"id": "a", "data_dir": "/d"})", p);
  CHECK_MESSAGE(p.empty(), p.to_string());
  CHECK(cfg.upload.bandwidth.unlimited());
  CHECK(cfg.upload.stop_grace_seconds == 10);
  CHECK(cfg.min_free_mb == 256);
}

TEST_CASE("bad bandwidth settings are named by their full path") {
  config::Problems p;
  parse(R"("agent": {"id": "a", "data_dir": "/d", "min_free_mb": -1},
    "upload": {"stop_grace_seconds": -5, "bandwidth": {"default_mbps": -1, "windows": [
      {"days": ["monday"], "start": "8:00", "end": "25:00", "mbps": -2, "extra": 1}]}})",
        p);
  CHECK(has_problem(p, "agent.min_free_mb"));
  CHECK(has_problem(p, "upload.stop_grace_seconds"));
  CHECK(has_problem(p, "upload.bandwidth.default_mbps"));
  CHECK(has_problem(p, "upload.bandwidth.windows[0].days[0]"));
  CHECK(has_problem(p, "upload.bandwidth.windows[0].start"));
  CHECK(has_problem(p, "upload.bandwidth.windows[0].end"));
  CHECK(has_problem(p, "upload.bandwidth.windows[0].mbps"));
  CHECK(has_problem(p, "upload.bandwidth.windows[0].extra"));
}
