#include "hub/app/hub_config.hpp"

#include <doctest/doctest.h>

using namespace lightbox;
using namespace lightbox::hub::app;

namespace {

nlohmann::json base() {
  return nlohmann::json::parse(R"({"tls": {"cert_file": "c", "key_file": "k"}, "data_dir": "/d"})");
}

bool has(const config::Problems& p, const std::string& field, const std::string& words) {
  for (const auto& e : p.list())
    if (e.field == field && e.message.find(words) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("enroll section: defaults, ranges, both-or-neither CA files, unknown keys") {
  config::Problems p;
  auto c = parse_hub_config(base(), p);
  CHECK(p.empty());
  CHECK(c.enroll.enabled);
  CHECK(c.enroll.cert_days == 365);
  CHECK(c.enroll.ca_cert_file.empty());

  auto j = base();
  j["enroll"] = {{"enabled", false}, {"cert_days", 30}, {"ca_cert_file", "/ca.crt"}, {"ca_key_file", "/ca.key"}};
  config::Problems ok;
  c = parse_hub_config(j, ok);
  CHECK(ok.empty());
  CHECK_FALSE(c.enroll.enabled);
  CHECK(c.enroll.cert_days == 30);
  CHECK(c.enroll.ca_key_file == "/ca.key");

  j["enroll"] = {{"cert_days", 0}, {"ca_cert_file", "/ca.crt"}, {"colour", "red"}};
  config::Problems bad;
  (void)parse_hub_config(j, bad);
  CHECK(bad.list().size() == 3);
  CHECK(has(bad, "enroll.cert_days", ""));
  CHECK(has(bad, "enroll.ca_key_file", "both"));
  CHECK(has(bad, "enroll.colour", ""));
}
