#include "hub/store/object_store.hpp"

#include <doctest/doctest.h>

#include <filesystem>

#include "common/hash/sha256.hpp"
#include "tests/unit/hub/test_support.hpp"

using namespace lightbox;
using namespace lightbox::hub;

namespace {

fsio::AtomicFile staged(store::ObjectStore& s, std::string_view bytes) {
  auto f = fsio::AtomicFile::create_in(s.staging_dir());
  REQUIRE(f.ok());
  REQUIRE(f->write(bytes).ok());
  return std::move(*f);
}

void exercise(store::ObjectStore& s) {
  const std::string bytes = "hello object";
  const std::string sha = hash::sha256_hex(bytes);
  CHECK(s.size(sha).error().code == Errc::not_found);
  REQUIRE(s.put(sha, staged(s, bytes)).ok());
  CHECK(*s.size(sha) == bytes.size());
  // Idempotent: the same bytes again leave one object and no temporary behind.
  REQUIRE(s.put(sha, staged(s, bytes)).ok());
  auto blob = s.open(sha);
  REQUIRE(blob.ok());
  CHECK(blob->size == bytes.size());
  std::string got = blob->file_path.empty() ? blob->bytes : *fsio::read_file(blob->file_path);
  CHECK(got == bytes);
  CHECK(s.remove(sha).ok());
  CHECK(s.remove(sha).error().code == Errc::not_found);
  CHECK(s.open(sha).error().code == Errc::not_found);
  CHECK(s.put("not-a-sha", staged(s, bytes)).error().field == "sha256");
  std::size_t temps = 0;
  for (auto& e : std::filesystem::directory_iterator(s.staging_dir())) (void)e, ++temps;
  CHECK(temps == 0);
}

}  // namespace

TEST_CASE("fs store: content-addressed layout, idempotent put, remove") {
  test::ScratchDir dir;
  auto s = store::FsObjectStore::open_at(dir.path());
  REQUIRE(s.ok());
  exercise(**s);
  const std::string sha = hash::sha256_hex("x");
  REQUIRE((*s)->put(sha, staged(**s, "x")).ok());
  CHECK((*s)->object_path(sha) ==
        dir.path() + "/objects/" + sha.substr(0, 2) + "/" + sha.substr(2, 2) + "/" + sha);
  CHECK(std::filesystem::exists((*s)->object_path(sha)));
}

TEST_CASE("fs store: start-up sweeps temporaries left by a crash") {
  test::ScratchDir dir;
  {
    auto s = store::FsObjectStore::open_at(dir.path());
    REQUIRE(s.ok());
    auto f = fsio::AtomicFile::create_in((*s)->staging_dir());
    REQUIRE(f.ok());
    REQUIRE(f->write("partial").ok());
    // Simulate a crash: the temporary stays on disk.
    std::filesystem::copy_file(f->temp_path(),
                               (*s)->staging_dir() + "/" + std::string(fsio::kTempPrefix) + "crash");
  }
  auto s = store::FsObjectStore::open_at(dir.path());
  REQUIRE(s.ok());
  CHECK((*s)->swept() == 1);
}

TEST_CASE("memory store behaves like the fs store") {
  test::ScratchDir dir;
  store::MemoryObjectStore s(dir.path());
  exercise(s);
  CHECK(s.count() == 0);
}
