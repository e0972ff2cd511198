// ${file:/path} secrets: read only from a file that nobody but the running user can read.
#include "common/config/reader.hpp"

#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

using namespace lightbox;
using namespace lightbox::config;
namespace fs = std::filesystem;

namespace {

struct SecretFile {
  std::string path;
  explicit SecretFile(const std::string& content, mode_t mode) {
    path = (fs::temp_directory_path() / ("lb-secret-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(reinterpret_cast<std::uintptr_t>(this)))).string();
    std::ofstream(path) << content;
    ::chmod(path.c_str(), mode);
  }
  ~SecretFile() { ::unlink(path.c_str()); }
};

std::string config_for(const std::string& file) {
  return R"({"hub": {"token": "${file:)" + file + R"(}"}})";
}

}  // namespace

TEST_CASE("a 0600 secret file owned by the running user is read and trimmed") {
  SecretFile f("  s3cret\n", 0600);
  Problems p;
  auto j = load_text(config_for(f.path), p);
  REQUIRE(j.ok());
  CHECK(p.empty());
  CHECK((*j)["hub"]["token"] == "s3cret");
}

TEST_CASE("0400 is fine too") {
  SecretFile f("ro", 0400);
  Problems p;
  auto j = load_text(config_for(f.path), p);
  REQUIRE(j.ok());
  CHECK(p.empty());
  CHECK((*j)["hub"]["token"] == "ro");
}

TEST_CASE("a world- or group-readable secret file is refused at the key's path, naming path and mode") {
  for (mode_t mode : {mode_t(0644), mode_t(0640), mode_t(0604)}) {
    SecretFile f("s3cret", mode);
    Problems p;
    auto j = load_text(config_for(f.path), p);
    REQUIRE(j.ok());
    REQUIRE(p.list().size() == 1);
    const auto& e = p.list()[0];
    CHECK(e.field == "hub.token");
    char m[8];
    std::snprintf(m, sizeof m, "%04o", static_cast<unsigned>(mode));
    CHECK(e.message == "secret file " + f.path + " is readable by others (mode " + m + "); chmod 600 it");
    CHECK(e.message.find("s3cret") == std::string::npos);
    CHECK((*j)["hub"]["token"] != "s3cret");
  }
}

TEST_CASE("a group-writable secret file is refused") {
  SecretFile f("s3cret", 0620);
  Problems p;
  REQUIRE(load_text(config_for(f.path), p).ok());
  REQUIRE(p.list().size() == 1);
  CHECK(p.list()[0].message.find("writable by others (mode 0620)") != std::string::npos);
}

TEST_CASE("a missing secret file, or a directory, is a problem at the key's path") {
  Problems p;
  REQUIRE(load_text(config_for("/nonexistent/lightbox/secret"), p).ok());
  REQUIRE(p.list().size() == 1);
  CHECK(p.list()[0].field == "hub.token");
  CHECK(p.list()[0].message.find("/nonexistent/lightbox/secret cannot be read") != std::string::npos);

  auto dir = fs::temp_directory_path() / ("lb-secret-dir-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  ::chmod(dir.c_str(), 0700);
  Problems q;
  REQUIRE(load_text(config_for(dir.string()), q).ok());
  REQUIRE(q.list().size() == 1);
  CHECK(q.list()[0].message.find("is not a regular file") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("a secret file owned by another user is refused (unless running as root)") {
  // /etc/shadow-like files are rarely 0600 and ours; use any root-owned 0600 regular file if present.
  if (::geteuid() == 0) {
    SecretFile f("s3cret", 0600);
    REQUIRE(::chown(f.path.c_str(), 12345, 12345) == 0);
    Problems p;
    auto j = load_text(config_for(f.path), p);
    REQUIRE(j.ok());
    CHECK(p.empty());  // root may read the service user's secret (e.g. `check` run as root)
    CHECK((*j)["hub"]["token"] == "s3cret");
  } else {
    MESSAGE("not root: cannot make a file owned by someone else; ownership refusal not exercised");
  }
}
