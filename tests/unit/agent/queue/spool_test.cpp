#include "agent/queue/spool.hpp"

#include <filesystem>

#include <doctest/doctest.h>

#include "agent/queue/intake.hpp"
#include "agent/queue/sqlite_queue.hpp"
#include "common/hash/sha256.hpp"
#include "tests/unit/agent/temp_dir.hpp"

using namespace lightbox;
using namespace lightbox::agent;
namespace fs = std::filesystem;

namespace {

/// A source stand-in that records what intake told it.
class FakeSource final : public sources::Source {
 public:
  std::string name_ = "ct";
  std::vector<sources::Collected> marked;
  std::vector<std::string> after;
  const std::string& name() const override { return name_; }
  std::string_view kind() const override { return "fake"; }
  std::int64_t poll_seconds() const override { return 5; }
  std::int64_t stable_seconds() const override { return 1; }
  Result<std::string> check() override { return std::string("fake source is fine"); }
  Result<std::vector<sources::Candidate>> scan() override { return std::vector<sources::Candidate>{}; }
  std::size_t pending() const override { return 0; }
  Status mark_collected(const std::vector<sources::Collected>& b) override {
    marked.insert(marked.end(), b.begin(), b.end());
    return {};
  }
  Status after_upload(const std::string& rel, std::uint64_t) override {
    after.push_back(rel);
    return {};
  }
};

}  // namespace

TEST_CASE("admit names the spool copy by its SHA-256 and leaves no temporaries") {
  test::TempDir dir;
  test::write_text(dir / "in/a.pdf", "%PDF-1.4 hello");
  queue::Spool spool(dir / "data");
  REQUIRE(spool.prepare().ok());
  auto r = spool.admit(dir / "in/a.pdf");
  REQUIRE(r.ok());
  CHECK(r->sha256 == hash::sha256_hex("%PDF-1.4 hello"));
  CHECK(r->size == 14);
  CHECK(fs::exists(spool.path(r->sha256)));
  CHECK(spool.list() == std::vector<std::string>{r->sha256});
  // The same bytes again: same name, still one file.
  REQUIRE(spool.admit(dir / "in/a.pdf").ok());
  CHECK(spool.list().size() == 1);
}

TEST_CASE("sweep removes temporaries; quarantine moves the file and writes its reason") {
  test::TempDir dir;
  queue::Spool spool(dir / "data");
  REQUIRE(spool.prepare().ok());
  test::write_text(spool.spool_dir() + "/" + std::string(fsio::kTempPrefix) + "123", "partial");
  CHECK(spool.sweep_temporaries() == 1);

  test::write_text(dir / "bad.bin", "garbage");
  auto r = spool.admit(dir / "bad.bin");
  REQUIRE(r.ok());
  REQUIRE(spool.quarantine(r->sha256, {"ct", "x/bad.bin", "not_dicom", "no DICM", 1}).ok());
  CHECK_FALSE(fs::exists(spool.path(r->sha256)));
  CHECK(fs::exists(spool.quarantine_dir() + "/" + r->sha256));
  auto note = fsio::read_file(spool.quarantine_dir() + "/" + r->sha256 + ".json");
  REQUIRE(note.ok());
  auto j = nlohmann::json::parse(*note);
  CHECK(j["path"] == "x/bad.bin");
  CHECK(j["reason_code"] == "not_dicom");

  REQUIRE(spool.restore(r->sha256).ok());
  CHECK(fs::exists(spool.path(r->sha256)));
  CHECK_FALSE(fs::exists(spool.quarantine_dir() + "/" + r->sha256 + ".json"));
}

TEST_CASE("intake: attachments queue as verified, mismatched ones are quarantined, duplicates once") {
  test::TempDir dir;
  test::write_text(dir / "src/report.pdf", "%PDF-1.7 body");
  test::write_text(dir / "src/copy.pdf", "%PDF-1.7 body");
  test::write_text(dir / "src/fake.jpg", "not a jpeg");
  queue::Spool spool(dir / "data");
  REQUIRE(spool.prepare().ok());
  auto q = queue::SqliteQueue::open(dir / "data/queue.db");
  REQUIRE(q.ok());
  verify::Verifier verifier(verify::Policy{});
  log::Logger log(log::Level::off);
  int notified = 0;
  queue::Intake intake(spool, **q, verifier, log, [&] { ++notified; });
  FakeSource src;
  std::vector<sources::Candidate> batch{{"ct", "report.pdf", dir / "src/report.pdf", 13, 1},
                                        {"ct", "fake.jpg", dir / "src/fake.jpg", 10, 1},
                                        {"ct", "copy.pdf", dir / "src/copy.pdf", 13, 1}};
  auto st = intake.admit(src, batch);
  CHECK(st.collected == 2);
  CHECK(st.quarantined == 1);
  CHECK(st.duplicates == 1);
  CHECK(notified == 1);
  CHECK(src.marked.size() == 3);
  auto c = (*q)->counts();
  CHECK(c->of(queue::State::verified) == 1);
  CHECK(c->of(queue::State::quarantined) == 1);
  auto v = (*(*q)->list(queue::State::verified, 10))[0];
  CHECK(v.kind == "attachment");
  CHECK(fs::exists(spool.path(v.sha256)));  // the duplicate did not delete the shared copy
  auto bad = (*(*q)->list(queue::State::quarantined, 10))[0];
  CHECK(bad.last_error_code == "attachment_mismatch");
  CHECK(fs::exists(spool.quarantine_dir() + "/" + bad.sha256 + ".json"));
}

TEST_CASE("recover: orphan spool files are re-queued, copies of delivered bytes dropped") {
  test::TempDir dir;
  queue::Spool spool(dir / "data");
  REQUIRE(spool.prepare().ok());
  auto q = queue::SqliteQueue::open(dir / "data/queue.db");
  REQUIRE(q.ok());
  // Delivered item whose spool copy survived a crash between "done" and the delete.
  test::write_text(dir / "done.pdf", "%PDF done");
  auto done = spool.admit(dir / "done.pdf");
  REQUIRE((*q)->insert({{done->sha256, "attachment", "ct", "done.pdf", done->size, queue::State::verified, {}, {}}}, 1).ok());
  auto claimed = (*q)->claim(1);
  REQUIRE((*q)->settle((**claimed).id, queue::State::uploading, {queue::State::done, 0, false, {}, {}}, 2).ok());
  // Orphan: copied into the spool, crash before the insert.
  test::write_text(dir / "orphan.pdf", "%PDF orphan");
  auto orphan = spool.admit(dir / "orphan.pdf");
  test::write_text(spool.spool_dir() + "/" + std::string(fsio::kTempPrefix) + "9", "x");

  verify::Verifier verifier(verify::Policy{});
  log::Logger log(log::Level::off);
  queue::Intake intake(spool, **q, verifier, log);
  auto st = intake.recover();
  CHECK(st.collected == 1);
  CHECK_FALSE(fs::exists(spool.path(done->sha256)));
  CHECK(fs::exists(spool.path(orphan->sha256)));
  auto found = (*q)->find(orphan->sha256);
  REQUIRE(found->has_value());
  CHECK((*found)->state == queue::State::verified);
  CHECK(spool.list().size() == 1);
}
