#pragma once
// Parses sources[0] of a JSONC text with one source kind's parser, the way the agent's config
// reader does (unknown keys reported), for the per-kind config tests.
#include <doctest/doctest.h>

#include <string>

#include "common/config/reader.hpp"

namespace lightbox::agent::sources::test {

/// Every problem as "path: message" lines ("" when none); `*out` receives the parsed config.
template <class Config, class Parse>
std::string config_problems(const std::string& text, Config base, Parse parse, Config* out = nullptr) {
  config::Problems problems;
  auto j = config::load_text(text, problems);
  REQUIRE(j);
  config::Node root(*j, "", problems);
  auto items = root.items("sources", true);
  REQUIRE(items.size() == 1);
  auto cfg = parse(items[0], base);
  std::string name, kind;  // read by the agent's source table, not by the kind's parser
  items[0].get("name", name);
  items[0].get("kind", kind);
  items[0].finish();
  if (out) *out = cfg;
  return problems.to_string();
}

}  // namespace lightbox::agent::sources::test
