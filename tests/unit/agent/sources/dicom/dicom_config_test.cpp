#include "agent/sources/dicom/dicom_config.hpp"

#include <doctest/doctest.h>

using namespace lightbox;
using namespace lightbox::agent::sources::dicom;

namespace {

// Parses sources[0] of a config text; returns the problems as one string.
std::string parse(const std::string& source_json, DicomConfig* out = nullptr) {
  config::Problems problems;
  auto j = config::load_text("{\"sources\": [" + source_json + "]}", problems);
  REQUIRE(j.ok());
  config::Node root(*j, "", problems);
  auto items = root.items("sources");
  REQUIRE(items.size() == 1);
  std::string name, kind;
  items[0].get("name", name);
  items[0].get("kind", kind);
  DicomConfig base;
  base.name = name;
  DicomConfig c = parse_dicom_config(items[0], base);
  items[0].finish();
  if (out) *out = c;
  return problems.to_string();
}

}  // namespace

TEST_CASE("a full dicom source config parses into typed fields") {
  DicomConfig c;
  auto p =
      parse(R"({"name":"pacs","kind":"dicom","ae_title":"LBAGENT","listen_address":"0.0.0.0","port":11113,
      "accepted_peers":[{"ae_title":"MODALITY1","host":"10.0.0.5"},{"ae_title":"CT2"}],
      "peer":{"ae_title":"ORTHANC","host":"127.0.0.1","port":4242},"retrieve":"get","window_days":3,
      "stable_seconds":5,"max_retries":2,"connect_timeout_seconds":4,"dimse_timeout_seconds":90})",
            &c);
  CHECK(p.empty());
  CHECK(c.ae_title == "LBAGENT");
  CHECK(c.listen_address == "0.0.0.0");
  CHECK(c.port == 11113);
  REQUIRE(c.accepted_peers.size() == 2);
  CHECK(c.accepted_peers[0].host == "10.0.0.5");
  CHECK(c.accepted_peers[1].host.empty());
  REQUIRE(c.peer.has_value());
  CHECK(c.peer->port == 4242);
  CHECK(c.retrieve == Retrieve::get);
  CHECK(c.window_days == 3);
  CHECK(c.max_retries == 2);
}

TEST_CASE("defaults: listen on loopback, C-MOVE, two-day window") {
  DicomConfig c;
  CHECK(parse(R"({"name":"p","kind":"dicom","peer":{"ae_title":"PACS","host":"h","port":104}})", &c).empty());
  CHECK(c.listen_address == "127.0.0.1");
  CHECK(c.retrieve == Retrieve::move);
  CHECK(c.window_days == 2);
  CHECK(c.ae_title == "LIGHTBOX");
}

TEST_CASE("config errors name the full path") {
  auto p = parse(R"({"name":"p","kind":"dicom","ae_title":"THIS_TITLE_IS_TOO_LONG","port":0,
      "peer":{"ae_title":"A\\B","host":"h"},"retrieve":"push","window_days":0,
      "accepted_peers":[{"host":"1.2.3.4","color":"red"}]})");
  CHECK(p.find("sources[0].ae_title: must be an AE title") != std::string::npos);
  CHECK(p.find("sources[0].port: must be >= 1") != std::string::npos);
  CHECK(p.find("sources[0].peer.ae_title: must be an AE title") != std::string::npos);
  CHECK(p.find("sources[0].peer.port: is required") != std::string::npos);
  CHECK(p.find("sources[0].retrieve:") != std::string::npos);
  CHECK(p.find("sources[0].window_days: must be >= 1") != std::string::npos);
  CHECK(p.find("sources[0].accepted_peers[0].ae_title: is required") != std::string::npos);
  CHECK(p.find("sources[0].accepted_peers[0].color") != std::string::npos);
}

TEST_CASE("a peer is required to retrieve; push-only needs accepted peers") {
  CHECK(parse(R"({"name":"p","kind":"dicom"})")
            .find("sources[0].peer: is required when retrieve is \"move\"") != std::string::npos);
  CHECK(parse(R"({"name":"p","kind":"dicom","retrieve":"none"})")
            .find("sources[0].accepted_peers: must list") != std::string::npos);
  CHECK(parse(R"({"name":"p","kind":"dicom","retrieve":"none","accepted_peers":[{"ae_title":"CT1"}]})")
            .empty());
}

TEST_CASE("AE titles: 1-16 printable characters, no backslash, not blank") {
  CHECK(is_valid_ae_title("ORTHANC"));
  CHECK(is_valid_ae_title("A B"));
  CHECK_FALSE(is_valid_ae_title(""));
  CHECK_FALSE(is_valid_ae_title("    "));
  CHECK_FALSE(is_valid_ae_title("ABCDEFGHIJKLMNOPQ"));
  CHECK_FALSE(is_valid_ae_title("A\\B"));
  CHECK_FALSE(is_valid_ae_title("A\nB"));
}

TEST_CASE("accepted peers: AE title, optional host, the PACS itself, our called title") {
  DicomConfig c;
  c.ae_title = "LIGHTBOX";
  c.accepted_peers = {{"CT1", "10.0.0.5"}, {"MR1", ""}};
  c.peer = PeerPacs{"ORTHANC", "127.0.0.1", 4242};
  CHECK_FALSE(refusal_reason(c, "CT1", "LIGHTBOX", "10.0.0.5").has_value());
  CHECK_FALSE(refusal_reason(c, "MR1", "LIGHTBOX", "192.168.1.1").has_value());
  CHECK_FALSE(
      refusal_reason(c, "MR1     ", "LIGHTBOX        ", "1.1.1.1").has_value());  // DICOM space padding
  CHECK_FALSE(refusal_reason(c, "ORTHANC", "LIGHTBOX", "127.0.0.1").has_value());

  auto r = refusal_reason(c, "CT1", "LIGHTBOX", "10.0.0.6");
  REQUIRE(r.has_value());
  CHECK(r->find("only from its configured host") != std::string::npos);
  r = refusal_reason(c, "EVIL", "LIGHTBOX", "127.0.0.1");
  REQUIRE(r.has_value());
  CHECK(*r == "calling AE title EVIL is not in accepted_peers");
  r = refusal_reason(c, "CT1", "OTHER", "10.0.0.5");
  REQUIRE(r.has_value());
  CHECK(r->rfind("called AE title OTHER", 0) == 0);

  // Listing the PACS's AE with a host pins it to that host.
  c.accepted_peers.push_back({"ORTHANC", "10.9.9.9"});
  CHECK(refusal_reason(c, "ORTHANC", "LIGHTBOX", "127.0.0.1").has_value());
}

TEST_CASE("study date window: today and the days before, across month and year ends") {
  CHECK(study_date_range({2026, 11, 28}, 2) == "20261127-20261128");
  CHECK(study_date_range({2026, 11, 28}, 1) == "20261128-20261128");
  CHECK(study_date_range({2026, 3, 1}, 2) == "20260228-20260301");
  CHECK(study_date_range({2024, 3, 1}, 2) == "20240229-20240301");  // leap year
  CHECK(study_date_range({2027, 1, 1}, 3) == "20261230-20270101");
  CHECK(study_date_range({2026, 11, 28}, 0) == "20261128-20261128");  // never an empty range
  CHECK(study_date_range({2026, 11, 28}, 365) == "20251129-20261128");
}
