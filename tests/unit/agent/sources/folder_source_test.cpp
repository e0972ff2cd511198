#include "agent/sources/folder_source.hpp"

#include <algorithm>
#include <filesystem>

#include <doctest/doctest.h>

#include "common/fsio/atomic_file.hpp"
#include "tests/unit/agent/temp_dir.hpp"

using namespace lightbox;
using namespace lightbox::agent::sources;
namespace fs = std::filesystem;

namespace {

/// Time under the test's control: scans happen "seconds apart" without sleeping.
struct FakeClock {
  std::int64_t ms = 1'000'000;
  MonotonicMs fn() {
    return [this] { return ms; };
  }
};

FolderConfig folder(const test::TempDir& dir) {
  FolderConfig c;
  c.name = "ct";
  c.path = dir / "in";
  c.stable_seconds = 2;
  fs::create_directories(c.path);
  return c;
}

std::vector<std::string> paths(const std::vector<Candidate>& v) {
  std::vector<std::string> out;
  for (const auto& c : v) out.push_back(c.rel_path);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Collected> collected(const std::vector<Candidate>& v) {
  std::vector<Collected> out;
  for (const auto& c : v) out.push_back({c, std::string(64, 'a')});
  return out;
}

}  // namespace

TEST_CASE("a file becomes a candidate only after stable_seconds unchanged across scans") {
  test::TempDir dir;
  auto seen = SeenStore::open(dir / "queue.db");
  REQUIRE(seen.ok());
  FakeClock clock;
  FolderSource src(folder(dir), *seen, clock.fn());
  test::write_text(dir / "in/a.dcm", "aaaa");

  CHECK(src.scan()->empty());  // first sight: record size and mtime
  CHECK(src.pending() == 1);
  clock.ms += 1000;
  CHECK(src.scan()->empty());  // unchanged, but only 1 s
  clock.ms += 1000;
  CHECK(paths(*src.scan()) == std::vector<std::string>{"a.dcm"});
}

TEST_CASE("a growing file restarts the stable clock") {
  test::TempDir dir;
  auto seen = SeenStore::open(dir / "queue.db");
  FakeClock clock;
  FolderSource src(folder(dir), *seen, clock.fn());
  test::write_text(dir / "in/a.dcm", "aa");
  CHECK(src.scan()->empty());
  clock.ms += 3000;
  test::write_text(dir / "in/a.dcm", "aaaaaa");  // still being written
  CHECK(src.scan()->empty());
  clock.ms += 1000;
  CHECK(src.scan()->empty());
  clock.ms += 1000;
  CHECK(src.scan()->size() == 1);
}

TEST_CASE("include/exclude globs, recursion and our own temporaries") {
  test::TempDir dir;
  auto seen = SeenStore::open(dir / "queue.db");
  FakeClock clock;
  auto cfg = folder(dir);
  cfg.include = {"*.dcm", "*.pdf"};
  cfg.exclude = {"*.tmp", "skip/*"};
  FolderSource src(cfg, *seen, clock.fn());
  test::write_text(dir / "in/a.dcm", "1");
  test::write_text(dir / "in/sub/deep/b.dcm", "2");
  test::write_text(dir / "in/c.txt", "3");
  test::write_text(dir / "in/d.dcm.tmp", "4");
  test::write_text(dir / "in/skip/e.dcm", "5");
  test::write_text(dir / "in/r.pdf", "6");
  test::write_text(dir / ("in/" + std::string(fsio::kTempPrefix) + "x.dcm"), "7");
  (void)src.scan();
  clock.ms += 2000;
  CHECK(paths(*src.scan()) == std::vector<std::string>{"a.dcm", "r.pdf", "sub/deep/b.dcm"});

  cfg.recursive = false;
  FolderSource flat(cfg, *seen, clock.fn());
  (void)flat.scan();
  clock.ms += 2000;
  CHECK(paths(*flat.scan()) == std::vector<std::string>{"a.dcm", "r.pdf"});
}

TEST_CASE("the seen-set survives a restart: nothing re-sent, changed files collected again") {
  test::TempDir dir;
  FakeClock clock;
  test::write_text(dir / "in/a.dcm", "aaaa");
  test::write_text(dir / "in/b.dcm", "bbbb");
  {
    auto seen = SeenStore::open(dir / "queue.db");
    FolderSource src(folder(dir), *seen, clock.fn());
    (void)src.scan();
    clock.ms += 2000;
    auto found = src.scan();
    REQUIRE(found->size() == 2);
    // Only a.dcm made it into the queue before the "crash".
    std::vector<Candidate> first{(*found)[0].rel_path == "a.dcm" ? (*found)[0] : (*found)[1]};
    REQUIRE(src.mark_collected(collected(first)).ok());
    CHECK(src.pending() == 1);
  }
  auto seen = SeenStore::open(dir / "queue.db");
  FolderSource src(folder(dir), *seen, clock.fn());
  (void)src.scan();
  clock.ms += 2000;
  CHECK(paths(*src.scan()) == std::vector<std::string>{"b.dcm"});  // not missed, a.dcm not re-sent

  test::write_text(dir / "in/a.dcm", "changed content");
  (void)src.scan();
  clock.ms += 2000;
  CHECK(paths(*src.scan()) == std::vector<std::string>{"a.dcm", "b.dcm"});
  auto all = seen->load("ct");
  REQUIRE(all.ok());
  CHECK(all->size() == 1);
  CHECK(all->at("a.dcm").size == 4);
}

TEST_CASE("after_upload: keep, delete, move keeping the relative path") {
  test::TempDir dir;
  auto seen = SeenStore::open(dir / "queue.db");
  auto cfg = folder(dir);
  test::write_text(dir / "in/x/a.dcm", "aaaa");

  FolderSource keep(cfg, *seen);
  REQUIRE(keep.after_upload("x/a.dcm", 4).ok());
  CHECK(fs::exists(dir / "in/x/a.dcm"));

  cfg.after_upload = AfterUpload::move;
  cfg.move_to = dir / "in/sent";  // inside the scanned tree: must not be collected again
  FolderSource move(cfg, *seen);
  auto changed = move.after_upload("x/a.dcm", 999);
  CHECK_FALSE(changed.ok());  // size differs from what was collected: left alone
  CHECK(fs::exists(dir / "in/x/a.dcm"));
  REQUIRE(move.after_upload("x/a.dcm", 4).ok());
  CHECK_FALSE(fs::exists(dir / "in/x/a.dcm"));
  CHECK(fs::exists(dir / "in/sent/x/a.dcm"));
  FakeClock clock;
  FolderSource rescan(cfg, *seen, clock.fn());
  (void)rescan.scan();
  clock.ms += 5000;
  CHECK(rescan.scan()->empty());

  cfg.after_upload = AfterUpload::del;
  test::write_text(dir / "in/b.dcm", "bb");
  FolderSource del(cfg, *seen);
  REQUIRE(del.after_upload("b.dcm", 2).ok());
  CHECK_FALSE(fs::exists(dir / "in/b.dcm"));
  CHECK(del.after_upload("b.dcm", 2).ok());  // already gone is fine
}

TEST_CASE("a missing folder is an error value naming the path") {
  test::TempDir dir;
  auto seen = SeenStore::open(dir / "queue.db");
  FolderConfig c;
  c.name = "gone";
  c.path = dir / "nope";
  FolderSource src(c, *seen);
  auto r = src.scan();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("does not exist") != std::string::npos);
}

TEST_CASE("glob matching uses the relative path or the file name") {
  CHECK(matches_any({"*.dcm"}, "a/b/c.dcm"));
  CHECK(matches_any({"a/*"}, "a/b/c.dcm"));
  CHECK_FALSE(matches_any({"*.pdf"}, "a/b/c.dcm"));
  CHECK(matches_any({"*"}, "x"));
}

TEST_CASE("first sight: an old mtime alone does not make a file stable, its fresh ctime counts") {
  // `cp -p` or `touch -d` can set mtime far back while the file was just written; the inode's
  // ctime cannot be set back, so the source waits out stable_seconds as for a new file.
  test::TempDir dir;
  auto seen = SeenStore::open(dir / "queue.db");
  REQUIRE(seen.ok());
  FakeClock clock;
  FolderSource src(folder(dir), *seen, clock.fn());
  test::write_text(dir / "in/old.dcm", "bbbb");
  const auto an_hour_ago = fs::file_time_type::clock::now() - std::chrono::hours(1);
  fs::last_write_time(dir / "in/old.dcm", an_hour_ago);

  CHECK(src.scan()->empty());  // mtime is old, but ctime is now: not yet
  CHECK(src.pending() == 1);
  clock.ms += 2000;
  CHECK(paths(*src.scan()) == std::vector<std::string>{"old.dcm"});
}
