#include "agent/sources/sftp/sftp_source.hpp"

#include <cstdlib>

#include <doctest/doctest.h>

#include "agent/app/config.hpp"
#include "agent/sources/sftp/stable_files.hpp"
#include "tests/unit/agent/temp_dir.hpp"

using namespace lightbox;
using namespace lightbox::agent::sources;
using namespace lightbox::agent::sources::sftp;

namespace {

std::string agent_text(const std::string& source) {
  return R"({"agent": {"id": "agent-01", "data_dir": "/var/lib/lightbox"},
             "hub": {"url": "https://127.0.0.1:8443", "token": "lbt_x"},
             "sources": [)" +
         source + "]}";
}

agent::app::AgentConfig parse(const std::string& source, config::Problems& p) {
  auto j = config::load_text(agent_text(source), p);
  REQUIRE(j.ok());
  return agent::app::parse_config(*j, p);
}

bool has_problem(const config::Problems& p, const std::string& field, const std::string& needle) {
  for (const auto& e : p.list())
    if (e.field == field && e.message.find(needle) != std::string::npos) return true;
  return false;
}

SftpConfig direct(const std::string& json, config::Problems& p) {
  auto j = config::load_text(json, p);
  REQUIRE(j.ok());
  config::Node n(*j, "sources[3]", p);
  SftpConfig base;
  base.name = "ris-sftp";
  auto c = parse_sftp_config(n, base);
  n.finish();
  return c;
}

}  // namespace

TEST_CASE("a valid sftp source is read into its typed config, secrets from the environment") {
  ::setenv("LB_TEST_SFTP_PW", "s3cret", 1);
  config::Problems p;
  auto c =
      direct(R"({"host": "pacs.example", "port": 2222, "username": "edge", "password": "${LB_TEST_SFTP_PW}",
                      "known_hosts": "/etc/lightbox/known_hosts", "path": "outbox", "recursive": false,
                      "include": ["*.dcm"], "exclude": ["*.part"], "stable_seconds": 4, "timeout_seconds": 15,
                      "after_upload": "move", "move_to": "outbox/sent"})",
             p);
  CHECK_MESSAGE(p.empty(), p.to_string());
  CHECK(c.target.host == "pacs.example");
  CHECK(c.target.port == 2222);
  CHECK(c.target.username == "edge");
  CHECK(c.target.password.reveal() == "s3cret");
  CHECK(c.target.known_hosts == "/etc/lightbox/known_hosts");
  CHECK(c.target.timeout_seconds == 15);
  CHECK(c.path == "outbox");
  CHECK_FALSE(c.recursive);
  CHECK(c.stable_seconds == 4);
  CHECK(c.after_upload == AfterUpload::move);
  CHECK(c.target.describe() == "edge@pacs.example:2222");
  nlohmann::json j = c.target.password;  // secrets never print
  CHECK(j == "***");
}

TEST_CASE("sftp config problems name the full key path") {
  config::Problems p;
  direct(R"({"host": "", "port": 70000, "username": "edge", "password": "x", "private_key_file": "/k",
             "stable_seconds": 0, "after_upload": "move", "colour": "blue"})",
         p);
  CHECK(has_problem(p, "sources[3].host", "must not be empty"));
  CHECK(has_problem(p, "sources[3].port", "65535"));
  CHECK(has_problem(p, "sources[3].private_key_file", "either password or private_key_file"));
  CHECK(has_problem(p, "sources[3].known_hosts", ""));
  CHECK(has_problem(p, "sources[3].stable_seconds", ">= 1"));
  CHECK(has_problem(p, "sources[3].move_to", "required"));
  CHECK(has_problem(p, "sources[3].colour", ""));

  config::Problems q;
  direct(R"({"host": "h", "username": "u", "known_hosts": "/kh", "passphrase": "p"})", q);
  CHECK(has_problem(q, "sources[3].password", "required unless private_key_file"));
  CHECK(has_problem(q, "sources[3].passphrase", "only applies with private_key_file"));
}

TEST_CASE("the agent config knows the sftp kind") {
  config::Problems p;
  auto cfg = parse(R"({"name": "ris", "kind": "sftp", "host": "127.0.0.1", "username": "u",
                       "private_key_file": "/k/id_ed25519", "known_hosts": "/k/known_hosts", "poll_seconds": 30})",
                   p);
  CHECK_MESSAGE(p.empty(), p.to_string());
  REQUIRE(cfg.sources.size() == 1);
  CHECK(cfg.sources[0].kind == "sftp");
  CHECK(cfg.sources[0].poll_seconds == 30);
  config::Problems q;
  parse(R"({"name": "ris", "kind": "sftp", "host": "127.0.0.1", "username": "u", "password": "p"})", q);
  CHECK(has_problem(q, "sources[0].known_hosts", ""));
}

TEST_CASE("remote paths join the source path, and the move_to folder inside it is not listed") {
  test::TempDir dir;
  auto seen = SeenStore::open(dir / "queue.db");
  REQUIRE(seen.ok());
  log::Logger quiet(log::Level::off);
  SftpConfig c;
  c.name = "s";
  c.path = "outbox";
  c.after_upload = AfterUpload::move;
  c.move_to = "outbox/sent/";
  SftpSource src(c, *seen, dir / "staging", quiet);
  CHECK(src.remote_path("a/b.dcm") == "outbox/a/b.dcm");
  CHECK(src.skip_dir("sent"));
  CHECK(src.skip_dir("sent/2026"));
  CHECK_FALSE(src.skip_dir("sentinel"));
  CHECK_FALSE(src.skip_dir("ct"));

  c.path = ".";
  c.move_to = "done";
  SftpSource home(c, *seen, dir / "staging", quiet);
  CHECK(home.remote_path("x.dcm") == "x.dcm");
  CHECK(home.skip_dir("done"));

  c.path = "/srv/outbox";
  c.move_to = "/srv/done";
  SftpSource outside(c, *seen, dir / "staging", quiet);
  CHECK(outside.remote_path("x.dcm") == "/srv/outbox/x.dcm");
  CHECK_FALSE(outside.skip_dir("done"));
}

TEST_CASE("check names a missing known_hosts file before touching the network") {
  test::TempDir dir;
  auto seen = SeenStore::open(dir / "queue.db");
  REQUIRE(seen.ok());
  log::Logger quiet(log::Level::off);
  SftpConfig c;
  c.name = "s";
  c.target.host = "127.0.0.1";
  c.target.port = 1;
  c.target.username = "u";
  c.target.known_hosts = dir / "no-such-known_hosts";
  SftpSource src(c, *seen, dir / "staging", quiet);
  auto r = src.check();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().field == "known_hosts");
  CHECK(r.error().message.find("no-such-known_hosts") != std::string::npos);
  auto s = src.scan();
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().field == "known_hosts");
}

TEST_CASE("a remote file is stable once size and whole-second mtime held for stable_seconds") {
  StableFiles st(2000);
  std::int64_t now = 1'000'000;
  CHECK_FALSE(st.observe("a.dcm", 10, 1700000000, now));  // first sight
  st.end_scan();
  now += 1000;
  CHECK_FALSE(st.observe("a.dcm", 10, 1700000000, now));  // unchanged for 1 s only
  st.end_scan();
  now += 1000;
  CHECK(st.observe("a.dcm", 10, 1700000000, now));  // unchanged for 2 s
  st.end_scan();
  CHECK(st.size() == 1);
}

TEST_CASE("growth or a new mtime restarts the clock; vanished files are forgotten") {
  StableFiles st(2000);
  std::int64_t now = 0;
  st.observe("a.dcm", 10, 100, now);
  st.observe("b.dcm", 5, 100, now);
  st.end_scan();
  now += 2500;
  CHECK_FALSE(st.observe("a.dcm", 20, 100, now));  // still growing
  CHECK_FALSE(st.observe("b.dcm", 5, 101, now));   // rewritten within the same size
  st.end_scan();
  now += 1999;
  CHECK_FALSE(st.observe("a.dcm", 20, 100, now));
  st.end_scan();  // b.dcm was not listed: gone
  CHECK(st.size() == 1);
  now += 1;
  CHECK(st.observe("a.dcm", 20, 100, now));
  st.restart("a.dcm", now);  // e.g. it changed while downloading
  CHECK_FALSE(st.observe("a.dcm", 20, 100, now + 1999));
  CHECK(st.observe("a.dcm", 20, 100, now + 2000));
  st.forget("a.dcm");
  CHECK(st.size() == 0);
}
