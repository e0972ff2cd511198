#include "common/config/reader.hpp"

#include <cstdlib>

#include <doctest/doctest.h>

using namespace lightbox;
using namespace lightbox::config;

namespace {

struct Source {
  std::string name;
  std::int64_t stable_seconds = 5;
};

std::vector<Source> read_sources(Node& root) {
  std::vector<Source> out;
  for (auto& n : root.items("sources", true)) {
    Source s;
    n.get("name", s.name, true);
    n.get_int("stable_seconds", s.stable_seconds, 1, 86400);
    n.finish();
    out.push_back(s);
  }
  return out;
}

}  // namespace

TEST_CASE("comments are allowed and values are typed") {
  Problems p;
  auto j = load_text(R"({
    // a comment
    "sources": [ {"name": "ct", /* inline */ "stable_seconds": 3} ]
  })", p);
  REQUIRE(j.ok());
  Node root(*j, "", p);
  auto s = read_sources(root);
  root.finish();
  CHECK(p.empty());
  REQUIRE(s.size() == 1);
  CHECK(s[0].name == "ct");
  CHECK(s[0].stable_seconds == 3);
}

TEST_CASE("errors name the full JSON path") {
  Problems p;
  auto j = load_text(R"({"sources": [{"name": "a"}, {"name": "b", "stable_seconds": 0, "colour": 1}], "extra": true})", p);
  REQUIRE(j.ok());
  Node root(*j, "", p);
  read_sources(root);
  root.finish();
  std::string text = p.to_string();
  CHECK(text.find("sources[1].stable_seconds: must be >= 1") != std::string::npos);
  CHECK(text.find("sources[1].colour: unknown key") != std::string::npos);
  CHECK(text.find("extra: unknown key") != std::string::npos);
  CHECK(p.list().size() == 3);
}

TEST_CASE("wrong types and missing required keys are reported") {
  Problems p;
  auto j = load_text(R"({"sources": [{"stable_seconds": "5"}]})", p);
  REQUIRE(j.ok());
  Node root(*j, "", p);
  read_sources(root);
  std::string text = p.to_string();
  CHECK(text.find("sources[0].name: is required") != std::string::npos);
  CHECK(text.find("sources[0].stable_seconds: must be an integer, not string") != std::string::npos);
}

TEST_CASE("enum values list the allowed words") {
  Problems p;
  auto j = load_text(R"({"mode": "sideways"})", p);
  REQUIRE(j.ok());
  Node root(*j, "", p);
  std::string mode = "keep";
  root.get_enum("mode", mode, {"keep", "delete", "move"});
  CHECK(mode == "keep");
  CHECK(p.to_string().find("mode: must be one of: keep, delete, move (got 'sideways')") != std::string::npos);
}

TEST_CASE("environment substitution fills secrets and names unset variables") {
  ::setenv("LB_TEST_SECRET", "s3cret", 1);
  ::unsetenv("LB_TEST_MISSING");
  Problems p;
  auto j = load_text(R"({"hub": {"token": "${LB_TEST_SECRET}", "other": "x${LB_TEST_MISSING}y"}})", p);
  REQUIRE(j.ok());
  CHECK((*j)["hub"]["token"] == "s3cret");
  REQUIRE(p.list().size() == 1);
  CHECK(p.list()[0].field == "hub.other");
  CHECK(p.list()[0].message.find("LB_TEST_MISSING") != std::string::npos);
}

TEST_CASE("invalid JSON is an error value, not an exception") {
  Problems p;
  auto j = load_text("{\"a\": ", p);
  REQUIRE_FALSE(j.ok());
  CHECK(j.error().code == Errc::invalid_config);
  auto arr = load_text("[1,2]", p);
  CHECK_FALSE(arr.ok());
}

TEST_CASE("an absent optional key keeps its default without range or enum checks") {
  Problems p;
  auto j = load_text(R"({})", p);
  REQUIRE(j.ok());
  Node root(*j, "", p);
  std::int64_t poll = 0;  // "unset" sentinel outside the allowed range
  root.get_int("poll_seconds", poll, 1, 60);
  std::string mode;       // empty default, not one of the words
  root.get_enum("mode", mode, {"keep", "move"});
  CHECK(p.empty());
  CHECK(poll == 0);
  CHECK(mode.empty());
}
