#include "common/fsio/atomic_file.hpp"

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <doctest/doctest.h>

#include "common/hash/sha256.hpp"

using namespace lightbox;
using namespace lightbox::fsio;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("lb_fsio_" + std::to_string(::getpid()) + "_" + std::to_string(rand()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::size_t count_files(const fs::path& dir) {
  std::size_t n = 0;
  for (auto& e : fs::directory_iterator(dir)) (void)e, ++n;
  return n;
}

}  // namespace

TEST_CASE("a committed file appears whole under its final name") {
  TempDir d;
  auto f = AtomicFile::create_in(d.path.string());
  REQUIRE(f.ok());
  REQUIRE(f->write("hello ").ok());
  REQUIRE(f->write("world").ok());
  CHECK(f->size() == 11);
  CHECK_FALSE(fs::exists(d.path / "out"));
  REQUIRE(f->commit((d.path / "out").string()).ok());
  auto text = read_file((d.path / "out").string());
  REQUIRE(text.ok());
  CHECK(*text == "hello world");
  CHECK(count_files(d.path) == 1);
}

TEST_CASE("an abandoned or destroyed temporary leaves nothing behind") {
  TempDir d;
  {
    auto f = AtomicFile::create_in(d.path.string());
    REQUIRE(f.ok());
    REQUIRE(f->write("partial").ok());
    CHECK(count_files(d.path) == 1);
  }
  CHECK(count_files(d.path) == 0);
}

TEST_CASE("sweep removes only our temporaries") {
  TempDir d;
  std::ofstream(d.path / (std::string(kTempPrefix) + "crashed")) << "x";
  std::ofstream(d.path / "keep.dcm") << "y";
  CHECK(sweep_temporaries(d.path.string()) == 1);
  CHECK(fs::exists(d.path / "keep.dcm"));
  CHECK(count_files(d.path) == 1);
}

TEST_CASE("copy_into_store names the copy by its hash and is idempotent") {
  TempDir d;
  auto src = d.path / "src.bin";
  std::ofstream(src, std::ios::binary) << "some dicom bytes";
  auto store = (d.path / "spool").string();
  auto a = copy_into_store(src.string(), store);
  REQUIRE(a.ok());
  CHECK(a->sha256 == hash::sha256_hex("some dicom bytes"));
  CHECK(a->size == 16);
  CHECK(fs::exists(fs::path(store) / a->sha256));
  auto b = copy_into_store(src.string(), store);
  REQUIRE(b.ok());
  CHECK(b->sha256 == a->sha256);
  CHECK(count_files(store) == 1);
  CHECK_FALSE(copy_into_store((d.path / "missing").string(), store).ok());
}

TEST_CASE("errno mapping separates full disks from other I/O errors") {
  CHECK(errc_from_errno(ENOSPC) == Errc::storage_full);
  CHECK(errc_from_errno(EDQUOT) == Errc::storage_full);
  CHECK(errc_from_errno(EIO) == Errc::io_error);
}
