#include "agent/app/config.hpp"
#include "agent/sources/folder_source.hpp"

#include <cstdlib>

#include <doctest/doctest.h>

using namespace lightbox;
using namespace lightbox::agent;

namespace {

const char* kValid = R"({
  // comments are allowed
  "agent": {"id": "agent-01", "data_dir": "/var/lib/lightbox"},
  "hub": {"url": "https://127.0.0.1:8443", "ca_file": "", "token": "${LB_TEST_TOKEN}"},
  "upload": {"concurrency": 2},
  "sources": [{"name": "ct", "kind": "folder", "path": "/data/ct", "stable_seconds": 3,
               "include": ["*.dcm"], "exclude": ["*.tmp"], "after_upload": "move", "move_to": "/data/done"}]
})";

app::AgentConfig parse(const std::string& text, config::Problems& p) {
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

TEST_CASE("a valid config becomes typed structs, ${ENV} substituted") {
  ::setenv("LB_TEST_TOKEN", "lbt_secret", 1);
  config::Problems p;
  auto cfg = parse(kValid, p);
  CHECK_MESSAGE(p.empty(), p.to_string());
  CHECK(cfg.id == "agent-01");
  CHECK(cfg.hub.token.reveal() == "lbt_secret");
  CHECK(cfg.upload.concurrency == 2);
  CHECK(cfg.upload.retry_max_seconds == 300);
  REQUIRE(cfg.sources.size() == 1);
  CHECK(cfg.sources[0].name == "ct");
  CHECK(cfg.sources[0].kind == "folder");
  CHECK(cfg.sources[0].poll_seconds == 0);  // not set: the kind's default applies
  auto seen = sources::SeenStore::open(":memory:");
  REQUIRE(seen.ok());
  log::Logger quiet(log::Level::off);
  auto src = cfg.sources[0].build(app::SourceContext{*seen, "/tmp/unused", quiet, ":memory:"});
  REQUIRE(src);
  CHECK(src->name() == "ct");
  CHECK(src->kind() == "folder");
  CHECK(src->stable_seconds() == 3);
  CHECK(src->poll_seconds() == 5);
  CHECK(cfg.queue_db() == "/var/lib/lightbox/queue.db");
}

TEST_CASE("folder keys become a typed FolderConfig") {
  config::Problems p;
  auto j = config::load_text(R"({"path": "/data/ct", "stable_seconds": 3, "include": ["*.dcm"],
                                 "after_upload": "move", "move_to": "/data/done"})", p);
  REQUIRE(j.ok());
  config::Node n(*j, "sources[0]", p);
  auto f = sources::parse_folder_config(n, sources::FolderConfig{});
  n.finish();
  CHECK_MESSAGE(p.empty(), p.to_string());
  CHECK(f.stable_seconds == 3);
  CHECK(f.after_upload == sources::AfterUpload::move);
  CHECK(f.include == std::vector<std::string>{"*.dcm"});
}

TEST_CASE("an unknown source kind names the allowed words") {
  ::setenv("LB_TEST_TOKEN", "x", 1);
  config::Problems p;
  (void)parse(R"({"agent": {"id": "a", "data_dir": "/d"}, "hub": {"url": "https://h", "token": "t"},
                  "sources": [{"name": "x", "kind": "carrier-pigeon"}]})", p);
  CHECK(has_problem(p, "sources[0].kind", "must be one of: folder"));
}

TEST_CASE("a missing environment variable names the key") {
  ::unsetenv("LB_TEST_TOKEN");
  config::Problems p;
  (void)parse(kValid, p);
  CHECK(has_problem(p, "hub.token", "LB_TEST_TOKEN"));
}

TEST_CASE("unknown keys are reported with their full path") {
  ::setenv("LB_TEST_TOKEN", "x", 1);
  config::Problems p;
  (void)parse(R"({"agent": {"id": "a", "data_dir": "/d", "colour": 1},
                  "hub": {"url": "https://h", "token": "t"},
                  "sources": [{"name": "a", "kind": "folder", "path": "/p", "stabel_seconds": 2}]})",
              p);
  CHECK(has_problem(p, "agent.colour", "unknown key"));
  CHECK(has_problem(p, "sources[0].stabel_seconds", "unknown key"));
}

TEST_CASE("range and cross-field rules name the path") {
  config::Problems p;
  (void)parse(R"({"agent": {"id": "a", "data_dir": "/d"},
                  "hub": {"url": "http://h", "token": "t"},
                  "upload": {"concurrency": 0},
                  "verify": {"attachments": ["pdf", "exe"]},
                  "sources": [{"name": "a", "kind": "folder", "path": "/p"},
                              {"name": "b", "kind": "folder", "path": "/q", "stable_seconds": 0,
                               "after_upload": "move"},
                              {"name": "a", "kind": "gopher", "path": "/r"}]})",
              p);
  CHECK(has_problem(p, "sources[1].stable_seconds", "must be >= 1"));
  CHECK(has_problem(p, "sources[1].move_to", "is required"));
  CHECK(has_problem(p, "sources[2].name", "duplicate"));
  CHECK(has_problem(p, "sources[2].kind", "must be one of"));
  CHECK(has_problem(p, "hub.url", "https://"));
  CHECK(has_problem(p, "upload.concurrency", "must be >= 1"));
  CHECK(has_problem(p, "verify.attachments[1]", "must be one of"));
  CHECK(p.to_string().find("sources[1].stable_seconds: must be >= 1\n") != std::string::npos);
}

TEST_CASE("required sections and keys") {
  config::Problems p;
  (void)parse("{}", p);
  CHECK(has_problem(p, "agent", "is required"));
  CHECK(has_problem(p, "hub", "is required"));
  CHECK(has_problem(p, "sources", "is required"));
}
