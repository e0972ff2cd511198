// Beast's fail_count loop over intake + settle: for n = 0, 1, 2, ... the n-th filesystem or
// SQLite step fails (as a crash there would stop it); after each attempt the queue must be
// consistent, and after a "restart" (recover + rescan + upload, no faults) every source file must
// be delivered or quarantined exactly once with nothing left in the spool. The loop ends at the
// first n where the whole operation succeeds without reaching the fault.
#include "agent/queue/intake.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <set>

#include "agent/queue/sqlite_queue.hpp"
#include "common/hash/sha256.hpp"
#include "tests/unit/agent/temp_dir.hpp"

namespace lightbox::agent::queue {
namespace {

namespace fs = std::filesystem;

/// Counts steps; the step numbered `fail_at` fails (once).
struct FailCounter {
  std::int64_t fail_at = -1;
  std::int64_t step = 0;
  bool hit = false;
  Status next(std::string_view what) {
    if (step++ == fail_at) {
      hit = true;
      return fail(Errc::io_error, "injected failure at step " + std::to_string(fail_at) + " (" + std::string(what) + ")");
    }
    return {};
  }
};

/// The Queue seam with a failure injected before each call.
class FaultyQueue final : public Queue {
 public:
  FaultyQueue(Queue& q, FailCounter& c) : q_(q), c_(c) {}
  Result<std::vector<Inserted>> insert(const std::vector<NewItem>& items, std::int64_t now) override {
    if (auto s = c_.next("insert"); !s) return std::move(s).error();
    return q_.insert(items, now);
  }
  Result<std::optional<Item>> claim(std::int64_t now) override {
    if (auto s = c_.next("claim"); !s) return std::move(s).error();
    return q_.claim(now);
  }
  Status settle(std::int64_t id, State from, const Settlement& st, std::int64_t now) override {
    if (auto s = c_.next("settle"); !s) return s;
    return q_.settle(id, from, st, now);
  }
  Result<std::optional<std::int64_t>> next_due() override { return q_.next_due(); }
  Result<std::vector<Item>> list(State state, std::int64_t limit) override {
    if (auto s = c_.next("list"); !s) return std::move(s).error();
    return q_.list(state, limit);
  }
  Result<std::optional<Item>> find(const std::string& sha256) override {
    if (auto s = c_.next("find"); !s) return std::move(s).error();
    return q_.find(sha256);
  }

 private:
  Queue& q_;
  FailCounter& c_;
};

/// A source over a fixed set of files; remembers what was collected and delivered.
class FakeSource final : public sources::Source {
 public:
  FakeSource(std::string root, FailCounter* c) : root_(std::move(root)), c_(c) {}
  const std::string& name() const override { return name_; }
  std::string_view kind() const override { return "fake"; }
  std::int64_t poll_seconds() const override { return 1; }
  std::int64_t stable_seconds() const override { return 0; }
  Result<std::string> check() override { return std::string("ok"); }
  Result<std::vector<sources::Candidate>> scan() override {
    std::vector<sources::Candidate> out;
    for (const auto& e : fs::recursive_directory_iterator(root_)) {
      if (!e.is_regular_file()) continue;
      std::string rel = fs::relative(e.path(), root_).string();
      if (collected_.count(rel)) continue;
      out.push_back({name_, rel, e.path().string(), static_cast<std::uint64_t>(e.file_size()), 0, ""});
    }
    return out;
  }
  std::size_t pending() const override { return 0; }
  Status mark_collected(const std::vector<sources::Collected>& batch) override {
    if (c_)
      if (auto s = c_->next("mark_collected"); !s) return s;
    for (const auto& c : batch) collected_.insert(c.candidate.rel_path);
    return {};
  }
  Status after_upload(const std::string& rel_path, std::uint64_t) override {
    delivered_.insert(rel_path);
    return {};
  }
  void set_counter(FailCounter* c) { c_ = c; }
  const std::set<std::string>& delivered() const { return delivered_; }

 private:
  std::string name_ = "fake";
  std::string root_;
  FailCounter* c_;
  std::set<std::string> collected_;
  std::set<std::string> delivered_;
};

/// What the uploader does with a receipt: claim, settle done, drop the spool copy (a failure there
/// is only logged: start-up removes copies of delivered bytes), after_upload.
Status deliver_all(Queue& q, const Spool& spool, sources::Source& src) {
  for (;;) {
    auto it = q.claim(unix_now_ms() + 1'000'000);
    if (!it) return std::move(it).error();
    if (!*it) return {};
    Settlement done;
    done.to = State::done;
    if (auto s = q.settle((*it)->id, State::uploading, done, unix_now_ms()); !s) return s;
    (void)spool.remove((*it)->sha256);
    if (auto s = src.after_upload((*it)->rel_path, (*it)->size); !s) return s;
  }
}

std::size_t count_files(const std::string& dir, bool temporaries) {
  std::size_t n = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const bool tmp = it->path().filename().string().rfind(".lbtmp-", 0) == 0;
    if (tmp == temporaries && it->path().extension() != ".json") ++n;
  }
  return n;
}

/// Rows in verified/uploading/done must not point at missing bytes (done ones need none);
/// quarantined rows have their file and a reason.
void check_consistent(SqliteQueue& q, const Spool& spool) {
  for (State st : {State::verified, State::uploading}) {
    auto items = q.list(st, 1000);
    REQUIRE(items.ok());
    for (const auto& it : *items) CHECK_MESSAGE(fs::exists(spool.path(it.sha256)), "row without bytes: " << it.rel_path);
  }
  auto quarantined = q.list(State::quarantined, 1000);
  REQUIRE(quarantined.ok());
  for (const auto& it : *quarantined) {
    CHECK(fs::exists(spool.quarantine_dir() + "/" + it.sha256));
    CHECK_FALSE(it.last_error.empty());
  }
}

}  // namespace

TEST_CASE("fail_count: every failed step of intake + settle is recovered, nothing lost or doubled") {
  std::int64_t n = 0;
  for (; n < 500; ++n) {
    test::TempDir dir;
    const std::string src_dir = dir / "src";
    // Three attachments (two with the same bytes) and one file that fails verification.
    test::write_text(src_dir + "/a.pdf", "%PDF-1.4 first\n");
    test::write_text(src_dir + "/b.pdf", "%PDF-1.4 second\n");
    test::write_text(src_dir + "/sub/c.pdf", "%PDF-1.4 first\n");
    test::write_text(src_dir + "/junk.bin", "not a pdf, not DICOM");
    log::Logger log(log::Level::off);
    verify::Verifier verifier(verify::Policy{});
    Spool spool(dir / "data");
    REQUIRE(spool.prepare().ok());
    auto real = SqliteQueue::open(dir / "data/queue.db");
    REQUIRE(real.ok());

    // The attempt, with step n failing.
    FailCounter counter{n};
    FaultyQueue faulty(**real, counter);
    FakeSource src(src_dir, &counter);
    spool.set_fault_hook([&](std::string_view step) { return counter.next(step); });
    {
      Intake intake(spool, faulty, verifier, log);
      auto found = src.scan();
      REQUIRE(found.ok());
      (void)intake.admit(src, *found);
      (void)deliver_all(faulty, spool, src);
    }
    check_consistent(**real, spool);
    if (!counter.hit) {
      // Success without reaching step n: the operation has n steps, all of them were covered.
      // c.pdf has a.pdf's bytes: one of the two is delivered (and acknowledged to the source).
      CHECK(src.delivered().count("b.pdf") == 1);
      CHECK(src.delivered().count("a.pdf") + src.delivered().count("sub/c.pdf") == 1);
      break;
    }

    // "Restart": start-up recovery, items left uploading are verified again, rescan, upload.
    spool.set_fault_hook({});
    src.set_counter(nullptr);
    real->reset();
    std::int64_t recovered = 0;
    real = SqliteQueue::open(dir / "data/queue.db", &recovered);
    REQUIRE(real.ok());
    Intake intake(spool, **real, verifier, log);
    (void)intake.recover();
    auto found = src.scan();
    REQUIRE(found.ok());
    (void)intake.admit(src, *found);
    REQUIRE(deliver_all(**real, spool, src).ok());
    (void)intake.recover();  // a second start-up drops spool copies of delivered bytes

    auto counts = (*real)->counts();
    REQUIRE_MESSAGE(counts.ok(), (counts.ok() ? std::string() : counts.error().to_string()));
    INFO("failure injected at step " << n);
    CHECK(counts->of(State::done) == 2);          // two distinct accepted contents, once each
    CHECK(counts->of(State::quarantined) == 1);   // junk.bin, with its reason
    CHECK(counts->of(State::verified) + counts->of(State::uploading) + counts->of(State::collected) +
              counts->of(State::failed) == 0);
    CHECK(count_files(spool.spool_dir(), false) == 0);  // no orphan spool copies
    CHECK(count_files(spool.spool_dir(), true) == 0);   // no temporaries
    CHECK(count_files(spool.quarantine_dir(), false) == 1);
    // Safety of the source acknowledgement: only files whose bytes the hub holds were
    // acknowledged (after_upload). A failure between the receipt and after_upload leaves the
    // source file in place (never the other way round), so liveness is not asserted here.
    for (const auto& rel : src.delivered()) {
      auto sha = hash::sha256_file(src_dir + "/" + rel);
      REQUIRE(sha.ok());
      auto item = (*real)->find(*sha);
      REQUIRE(item.ok());
      REQUIRE(item->has_value());
      CHECK((**item).state == State::done);
    }
    check_consistent(**real, spool);
  }
  MESSAGE("fail_count loop: " << n << " injected failures, then a clean pass");
  CHECK(n > 10);  // the operation really has many steps
}

}  // namespace lightbox::agent::queue
