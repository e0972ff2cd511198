#include "agent/queue/sqlite_queue.hpp"

#include <doctest/doctest.h>

#include "tests/unit/agent/temp_dir.hpp"

using namespace lightbox;
using namespace lightbox::agent::queue;

namespace {

std::string sha(char c) { return std::string(64, c); }

NewItem item(char c, State st = State::verified) {
  NewItem n;
  n.sha256 = sha(c);
  n.kind = "dicom";
  n.source = "ct";
  n.rel_path = std::string("dir/") + c + ".dcm";
  n.size = 100;
  n.state = st;
  if (st == State::quarantined) {
    n.error_code = "not_dicom";
    n.error = "no DICM";
  }
  return n;
}

std::unique_ptr<SqliteQueue> open_queue(const test::TempDir& dir, std::int64_t* recovered = nullptr) {
  auto q = SqliteQueue::open(dir / "queue.db", recovered);
  REQUIRE(q.ok());
  return std::move(*q);
}

}  // namespace

TEST_CASE("insert is idempotent by content and reports the existing state") {
  test::TempDir dir;
  auto q = open_queue(dir);
  auto r = q->insert({item('a'), item('b'), item('a')}, 1000);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 3);
  CHECK((*r)[0].added);
  CHECK((*r)[1].added);
  CHECK_FALSE((*r)[2].added);
  CHECK((*r)[2].id == (*r)[0].id);
  CHECK((*r)[2].existing_state == State::verified);
  auto c = q->counts();
  REQUIRE(c.ok());
  CHECK(c->of(State::verified) == 2);
  CHECK(c->backlog_bytes == 200);
  CHECK(c->oldest_pending_at == 1000);
}

TEST_CASE("claim takes each due item once, in due order") {
  test::TempDir dir;
  auto q = open_queue(dir);
  REQUIRE(q->insert({item('a'), item('b')}, 1000).ok());
  auto first = q->claim(1000);
  REQUIRE(first.ok());
  REQUIRE(first->has_value());
  CHECK((*first)->state == State::uploading);
  auto second = q->claim(1000);
  REQUIRE(second->has_value());
  CHECK((*second)->id != (*first)->id);
  auto none = q->claim(1000);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  CHECK(q->counts()->of(State::uploading) == 2);
}

TEST_CASE("done, retry with a due time, failed") {
  test::TempDir dir;
  auto q = open_queue(dir);
  REQUIRE(q->insert({item('a'), item('b'), item('c')}, 1000).ok());
  auto a = **q->claim(1000);
  auto b = **q->claim(1000);
  auto c = **q->claim(1000);

  REQUIRE(q->settle(a.id, State::uploading, Settlement{State::done, 0, false, {}, {}}, 2000).ok());

  Settlement retry{State::verified, 9000, true, "network", "connection refused"};
  REQUIRE(q->settle(b.id, State::uploading, retry, 2000).ok());
  CHECK_FALSE(q->claim(8999)->has_value());  // not due yet
  auto due = q->next_due();
  REQUIRE(due.ok());
  CHECK(*due == std::optional<std::int64_t>(9000));
  auto again = q->claim(9000);
  REQUIRE(again->has_value());
  CHECK((*again)->attempts == 1);
  CHECK((*again)->last_error_code == "network");

  REQUIRE(q->settle(c.id, State::uploading, Settlement{State::failed, 0, false, "unauthorized", "bad token"}, 3000).ok());
  // Settling from the wrong state is a conflict, not a silent change.
  auto wrong = q->settle(c.id, State::uploading, Settlement{State::done, 0, false, {}, {}}, 3000);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().code == Errc::conflict);

  auto counts = q->counts();
  CHECK(counts->of(State::done) == 1);
  CHECK(counts->of(State::failed) == 1);
  CHECK(counts->of(State::uploading) == 1);
  CHECK(counts->uploaded_bytes == 100);
}

TEST_CASE("quarantined items are stored with their reason and never claimed") {
  test::TempDir dir;
  auto q = open_queue(dir);
  REQUIRE(q->insert({item('q', State::quarantined)}, 1000).ok());
  CHECK_FALSE(q->claim(5000)->has_value());
  auto list = q->list(State::quarantined, 10);
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].last_error_code == "not_dicom");
}

TEST_CASE("opening again sends items left uploading back to verified") {
  test::TempDir dir;
  {
    auto q = open_queue(dir);
    REQUIRE(q->insert({item('a'), item('b')}, 1000).ok());
    REQUIRE(q->claim(1000)->has_value());
  }
  std::int64_t recovered = -1;
  auto q = open_queue(dir, &recovered);
  CHECK(recovered == 1);
  CHECK(q->counts()->of(State::verified) == 2);
  CHECK(q->counts()->of(State::uploading) == 0);
}

TEST_CASE("requeue: failed back to verified, quarantined to collected") {
  test::TempDir dir;
  auto q = open_queue(dir);
  REQUIRE(q->insert({item('a'), item('q', State::quarantined), item('v')}, 1000).ok());
  auto a = **q->claim(1000);
  REQUIRE(q->settle(a.id, State::uploading, Settlement{State::failed, 0, true, "rejected", "no"}, 2000).ok());
  auto quarantined = (*q->list(State::quarantined, 10))[0];
  auto verified = (*q->list(State::verified, 10))[0];
  auto n = q->requeue({a.id, quarantined.id, verified.id}, 5000);
  REQUIRE(n.ok());
  CHECK(*n == 2);  // the verified one is left alone
  auto c = q->counts();
  CHECK(c->of(State::verified) == 2);
  CHECK(c->of(State::collected) == 1);
  auto again = (*q->list(State::verified, 10));
  for (const auto& it : again) CHECK(it.attempts == 0);
}

TEST_CASE("backoff: full jitter under an exponential ceiling") {
  CHECK(backoff_ms(0, 1000, 300000, 1.0) == 1000);
  CHECK(backoff_ms(3, 1000, 300000, 1.0) == 8000);
  CHECK(backoff_ms(3, 1000, 300000, 0.5) == 4000);
  CHECK(backoff_ms(3, 1000, 300000, 0.0) == 0);
  CHECK(backoff_ms(20, 1000, 300000, 1.0) == 300000);
  CHECK(backoff_ms(1000, 1000, 300000, 1.0) == 300000);  // no overflow
  CHECK(backoff_ms(2, 1000, 300000, 7.0) == 4000);       // u01 clamped
}

TEST_CASE("state names round-trip") {
  for (int i = 0; i < kStateCount; ++i) {
    auto s = static_cast<State>(i);
    CHECK(parse_state(to_string(s)) == s);
  }
  CHECK_FALSE(parse_state("bogus").has_value());
}

TEST_CASE("a recovered orphan (no source) is adopted by the first source that brings its bytes") {
  test::TempDir dir;
  auto q = open_queue(dir);
  NewItem orphan = item('o');
  orphan.source = "";
  orphan.rel_path = "spool/" + orphan.sha256;
  REQUIRE(q->insert({orphan}, 1000).ok());
  auto r = q->insert({item('o')}, 2000);
  REQUIRE(r.ok());
  CHECK_FALSE((*r)[0].added);
  auto found = q->find(std::string(64, 'o'));
  REQUIRE(found->has_value());
  CHECK((*found)->source == "ct");
  CHECK((*found)->rel_path == "dir/o.dcm");
}
