#include "common/hash/sha256.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

using namespace lightbox::hash;

TEST_CASE("known SHA-256 vectors") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("incremental hashing equals one-shot and the hasher resets") {
  Sha256 h;
  h.update("a");
  h.update("bc");
  CHECK(h.finish_hex() == sha256_hex("abc"));
  h.update("");
  CHECK(h.finish_hex() == sha256_hex(""));
}

TEST_CASE("file hashing matches memory hashing") {
  auto path = std::filesystem::temp_directory_path() / "lb_hash_test.bin";
  std::string data(3 * 1024 * 1024 + 17, 'x');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31);
  std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
  auto r = sha256_file(path.string());
  REQUIRE(r.ok());
  CHECK(*r == sha256_hex(data));
  std::filesystem::remove(path);
  CHECK_FALSE(sha256_file(path.string()).ok());
}

TEST_CASE("sha256 names are 64 lowercase hex characters") {
  CHECK(is_sha256_hex(sha256_hex("x")));
  CHECK_FALSE(is_sha256_hex("ABC"));
  CHECK_FALSE(is_sha256_hex(std::string(64, 'g')));
  CHECK_FALSE(is_sha256_hex(std::string(64, 'A')));
  CHECK_FALSE(is_sha256_hex(std::string(63, 'a')));
}
