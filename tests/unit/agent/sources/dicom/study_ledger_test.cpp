#include "agent/sources/dicom/study_ledger.hpp"

#include <map>

#include <doctest/doctest.h>

using namespace lightbox::agent::sources::dicom;

namespace {

struct Have {
  std::map<std::string, std::int64_t> n;
  HaveCount fn() {
    return [this](const std::string& uid) { return n.count(uid) ? n[uid] : 0; };
  }
};

}  // namespace

TEST_CASE("new studies are retrieved; complete ones are not retrieved again") {
  StudyLedger l(3);
  Have h;
  auto todo = l.plan({{"1.1", 20}, {"1.2", 5}}, h.fn());
  CHECK(todo == std::vector<std::string>{"1.1", "1.2"});
  h.n["1.1"] = 20;
  h.n["1.2"] = 5;
  CHECK(l.record_retrieve("1.1", 20, 20));
  CHECK(l.record_retrieve("1.2", 5, 5));
  CHECK(l.plan({{"1.1", 20}, {"1.2", 5}}, h.fn()).empty());
  CHECK(l.gaps().empty());
}

TEST_CASE("a gap is retried a bounded number of times, then reported") {
  StudyLedger l(2);
  Have h;
  REQUIRE(l.plan({{"1.1", 20}}, h.fn()).size() == 1);
  h.n["1.1"] = 18;
  CHECK_FALSE(l.record_retrieve("1.1", 18, 18));  // the PACS sent 18 of 20
  auto s = l.gap_sentences();
  REQUIRE(s.size() == 1);
  CHECK(s[0] == "study 1.1: 18 of 20 instances after 1 retrieve");
  for (int retry = 0; retry < 2; ++retry) {
    REQUIRE(l.plan({{"1.1", 20}}, h.fn()).size() == 1);
    CHECK_FALSE(l.record_retrieve("1.1", 18, 18));
  }
  CHECK(l.plan({{"1.1", 20}}, h.fn()).empty());  // 1 + 2 retries used up
  REQUIRE(l.find("1.1") != nullptr);
  CHECK(l.find("1.1")->gave_up);
  CHECK(l.gap_sentences()[0] == "study 1.1: 18 of 20 instances after 3 retrieves; retries exhausted");
  // The instances arrive later (pushed): complete, no longer a gap.
  h.n["1.1"] = 20;
  CHECK(l.plan({{"1.1", 20}}, h.fn()).empty());
  CHECK(l.gaps().empty());
}

TEST_CASE("a study that grows at the PACS is retrieved again") {
  StudyLedger l(0);
  Have h;
  l.plan({{"1.1", 10}}, h.fn());
  h.n["1.1"] = 9;
  l.record_retrieve("1.1", 9, 9);
  CHECK(l.plan({{"1.1", 10}}, h.fn()).empty());                             // max_retries 0: given up
  CHECK(l.plan({{"1.1", 12}}, h.fn()) == std::vector<std::string>{"1.1"});  // new count, new round
}

TEST_CASE("unknown PACS count: the retrieve's sub-operation total is the expectation") {
  StudyLedger l(3);
  Have h;
  REQUIRE(l.plan({{"1.1", -1}}, h.fn()).size() == 1);
  h.n["1.1"] = 7;
  CHECK(l.record_retrieve("1.1", 7, 7));
  CHECK(l.plan({{"1.1", -1}}, h.fn()).empty());
  // A failed retrieve (network) is never complete, even with no count to compare.
  REQUIRE(l.plan({{"1.1", -1}, {"1.2", -1}}, h.fn()).size() == 1);
  CHECK_FALSE(l.record_retrieve("1.2", 0, -1, false));
  CHECK(l.plan({{"1.1", -1}, {"1.2", -1}}, h.fn()) == std::vector<std::string>{"1.2"});
}

TEST_CASE("the RIS expected count raises the bar (hook for a view source)") {
  StudyLedger l(3);
  Have h;
  RisExpected ris = [](const std::string& uid) -> std::int64_t { return uid == "1.1" ? 25 : -1; };
  h.n["1.1"] = 20;
  auto todo = l.plan({{"1.1", 20}}, h.fn(), ris);
  CHECK(todo == std::vector<std::string>{"1.1"});  // PACS says 20, RIS says 25
  CHECK_FALSE(l.record_retrieve("1.1", 20, 20));
  CHECK(l.gap_sentences()[0].find("20 of 25") != std::string::npos);
  CHECK(l.gap_sentences()[0].find("count from the RIS") != std::string::npos);
}

TEST_CASE("studies leaving the window are forgotten; retry counters survive a restart") {
  StudyLedger l(3);
  Have h;
  l.plan({{"1.1", 4}, {"1.2", 4}}, h.fn());
  l.record_retrieve("1.1", 2, 2);
  l.record_retrieve("1.2", 4, 4);
  auto j = l.to_json();
  CHECK(j["complete"] == 1);
  REQUIRE(j["incomplete"].size() == 1);
  CHECK(j["incomplete"][0]["study_uid"] == "1.1");
  CHECK(j["incomplete"][0]["attempts"] == 1);

  StudyLedger again(3);
  again.restore(j);
  REQUIRE(again.find("1.1") != nullptr);
  CHECK(again.find("1.1")->attempts == 1);
  again.restore(nlohmann::json("garbage"));  // ignored
  h.n["1.1"] = 2;
  CHECK(again.plan({{"1.1", 4}}, h.fn()) == std::vector<std::string>{"1.1"});
  CHECK(again.plan({}, h.fn()).empty());
  CHECK(again.find("1.1") == nullptr);  // left the window
}

TEST_CASE("counts learnt from a retrieve survive a restart (PACS without NumberOfStudyRelatedInstances)") {
  StudyLedger l(3);
  Have h;
  l.plan({{"1.1", -1}, {"1.2", 5}}, h.fn());
  l.record_retrieve("1.1", 7, 7);
  l.record_retrieve("1.2", 5, 5);
  auto counts = l.retrieve_counts();
  CHECK(counts == nlohmann::json{{"1.1", 7}});  // 1.2's count comes from C-FIND every time

  StudyLedger again(3);
  again.restore_retrieve_counts(counts);
  again.restore_retrieve_counts(nlohmann::json::array());  // ignored
  h.n["1.1"] = 7;
  h.n["1.2"] = 5;
  CHECK(again.plan({{"1.1", -1}, {"1.2", 5}}, h.fn()).empty());
}
