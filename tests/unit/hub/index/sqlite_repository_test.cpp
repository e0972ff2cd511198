#include "hub/index/repository.hpp"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "common/hash/sha256.hpp"
#include "tests/unit/hub/test_support.hpp"

using namespace lightbox;
using namespace lightbox::hub;

namespace {

index::ObjectRecord dicom_record(const std::string& inst, const std::string& agent, const std::string& sha,
                                 const std::string& study, const std::string& series, const std::string& sop,
                                 const std::string& modality = "CT") {
  index::ObjectRecord r;
  r.sha256 = sha;
  r.size = 100;
  r.kind = wire::ObjectKind::dicom;
  r.content_type = "application/dicom";
  r.institution = inst;
  r.agent = agent;
  dicom::DicomFacts f;
  f.study_instance_uid = study;
  f.series_instance_uid = series;
  f.sop_instance_uid = sop;
  f.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
  f.modality = modality;
  f.patient_id = "P1";
  f.patient_name = "Doe^Jane";
  f.study_date = "20260101";
  f.transfer_syntax_uid = "1.2.840.10008.1.2.1";
  r.dicom = f;
  return r;
}

std::unique_ptr<index::SqliteRepository> open_repo(const test::ScratchDir& dir) {
  auto r = index::SqliteRepository::open(dir / "index.db");
  REQUIRE(r.ok());
  return std::move(*r);
}

}  // namespace

TEST_CASE("index: schema is created on open and reopening keeps data") {
  test::ScratchDir dir;
  {
    auto repo = open_repo(dir);
    REQUIRE(repo->create_institution("h1", "Hospital One").ok());
  }
  auto repo = open_repo(dir);
  auto again = repo->create_institution("h1", "Renamed");
  REQUIRE(again.ok());
  CHECK(again->name == "Hospital One");  // idempotent, unchanged
  CHECK(index::SqliteRepository::open(":memory:").error().code == Errc::invalid_argument);
}

TEST_CASE("index: agents, token lookup and revocation") {
  test::ScratchDir dir;
  auto repo = open_repo(dir);
  CHECK(repo->put_agent("nope", "a1", "t").error().field == "institution");
  REQUIRE(repo->create_institution("h1", "H1").ok());
  REQUIRE(repo->create_institution("h2", "H2").ok());
  const std::string tok = hash::sha256_hex("lbt_secret");
  REQUIRE(repo->put_agent("h1", "a1", tok).ok());
  auto c = repo->find_credential(tok);
  REQUIRE(c.ok());
  CHECK(c->agent == "a1");
  CHECK(c->institution == "h1");
  CHECK_FALSE(c->revoked);
  CHECK(repo->find_credential(hash::sha256_hex("other")).error().code == Errc::not_found);
  CHECK(repo->put_agent("h2", "a1", hash::sha256_hex("x")).error().code == Errc::conflict);

  REQUIRE(repo->revoke_agent("a1").ok());
  CHECK(repo->find_credential(tok)->revoked);
  CHECK(repo->revoke_agent("ghost").error().code == Errc::not_found);

  // Re-issuing replaces the token and clears the revocation.
  const std::string tok2 = hash::sha256_hex("lbt_new");
  REQUIRE(repo->put_agent("h1", "a1", tok2).ok());
  CHECK(repo->find_credential(tok).error().code == Errc::not_found);
  CHECK_FALSE(repo->find_credential(tok2)->revoked);
  auto agents = repo->list_agents();
  REQUIRE(agents.ok());
  REQUIRE(agents->size() == 1);
  CHECK((*agents)[0].id == "a1");
}

TEST_CASE("index: Stored then AlreadyStored, senders recorded, institution scoping") {
  test::ScratchDir dir;
  auto repo = open_repo(dir);
  const std::string sha = hash::sha256_hex("obj");
  auto rec = dicom_record("h1", "a1", sha, "1.2.3", "1.2.3.4", "1.2.3.4.5");
  auto first = repo->record_object(rec);
  REQUIRE(first.ok());
  CHECK(first->outcome == wire::StoreOutcome::Stored);
  auto second = repo->record_object(rec);
  REQUIRE(second.ok());
  CHECK(second->outcome == wire::StoreOutcome::AlreadyStored);
  CHECK(second->stored_at == first->stored_at);

  CHECK(repo->find_object(sha, "h1").ok());
  CHECK(repo->find_object(sha, "h2").error().code == Errc::not_found);
  // Another institution sends the same bytes: stored once, now visible to both.
  auto other = repo->record_object(dicom_record("h2", "b1", sha, "1.2.3", "1.2.3.4", "1.2.3.4.5"));
  REQUIRE(other.ok());
  CHECK(other->outcome == wire::StoreOutcome::AlreadyStored);
  CHECK(repo->find_object(sha, "h2").ok());
  CHECK(repo->list_studies("h2", {})->size() == 1);

  // Same name, different size: a conflict rather than silent acceptance.
  auto bad = rec;
  bad.size = 5;
  CHECK(repo->record_object(bad).error().code == Errc::conflict);
}

TEST_CASE("index: studies list with counts and modalities, study detail") {
  test::ScratchDir dir;
  auto repo = open_repo(dir);
  REQUIRE(
      repo->record_object(dicom_record("h1", "a1", hash::sha256_hex("1"), "9.1", "9.1.1", "9.1.1.1", "CT"))
          .ok());
  REQUIRE(
      repo->record_object(dicom_record("h1", "a1", hash::sha256_hex("2"), "9.1", "9.1.1", "9.1.1.2", "CT"))
          .ok());
  REQUIRE(
      repo->record_object(dicom_record("h1", "a1", hash::sha256_hex("3"), "9.1", "9.1.2", "9.1.2.1", "SR"))
          .ok());
  REQUIRE(
      repo->record_object(dicom_record("h1", "a1", hash::sha256_hex("4"), "9.2", "9.2.1", "9.2.1.1", "MR"))
          .ok());
  REQUIRE(
      repo->record_object(dicom_record("h2", "b1", hash::sha256_hex("5"), "8.1", "8.1.1", "8.1.1.1", "MR"))
          .ok());

  auto list = repo->list_studies("h1", {});
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  const auto& s = (*list)[0].study_uid == "9.1" ? (*list)[0] : (*list)[1];
  CHECK(s.series_count == 2);
  CHECK(s.instance_count == 3);
  CHECK(s.modalities == std::vector<std::string>{"CT", "SR"});
  CHECK(s.institution == "h1");
  CHECK(s.patient_name == "Doe^Jane");

  index::StudyQuery q;
  q.limit = 1;
  CHECK(repo->list_studies("h1", q)->size() == 1);
  q.patient_id = "nobody";
  CHECK(repo->list_studies("h1", q)->empty());

  auto d = repo->get_study("h1", "9.1");
  REQUIRE(d.ok());
  REQUIRE(d->series.size() == 2);
  CHECK(d->series[0].instances.size() + d->series[1].instances.size() == 3);
  CHECK(repo->get_study("h2", "9.1").error().code == Errc::not_found);
}

TEST_CASE("index: concurrent record_object calls are group-committed") {
  test::ScratchDir dir;
  auto repo = open_repo(dir);
  constexpr int kThreads = 8, kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> stored{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        index::ObjectRecord r;
        r.sha256 = hash::sha256_hex(std::to_string(t) + "/" + std::to_string(i));
        r.size = 1;
        r.kind = wire::ObjectKind::attachment;
        r.content_type = "application/pdf";
        r.institution = "h1";
        r.agent = "a1";
        auto res = repo->record_object(r);
        if (res.ok() && res->outcome == wire::StoreOutcome::Stored) ++stored;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(stored == kThreads * kEach);
  CHECK(repo->commit_count() <= static_cast<std::uint64_t>(kThreads * kEach));
  MESSAGE("commits for " << kThreads * kEach << " records: " << repo->commit_count());
}
