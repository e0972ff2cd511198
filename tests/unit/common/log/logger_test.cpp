#include "common/log/logger.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

using namespace lightbox;
namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::minutes;

namespace {

/// A temp directory removed at the end of the test.
struct TempDir {
  fs::path dir;
  TempDir() {
    dir = fs::temp_directory_path() / ("lb-log-test-" + std::to_string(::getpid()) + "-" +
                                       std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDir() { std::error_code ec; fs::remove_all(dir, ec); }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

/// A clock the test moves by hand.
struct FakeClock {
  std::chrono::system_clock::time_point now = std::chrono::system_clock::from_time_t(1'800'000'000);
  log::Clock fn() { return [this] { return now; }; }
};

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(f, l);) out.push_back(l);
  return out;
}

}  // namespace

TEST_CASE("a Secret prints *** in a log line, never its value") {
  TempDir t;
  const auto path = t.file("a.log");
  {
    log::Logger lg(log::Level::info, log::Sink{path});
    lg.info("test", "connected", {{"password", log::Secret("hunter2")}, {"empty", log::Secret()}});
  }
  auto lines = lines_of(path);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("hunter2") == std::string::npos);
  auto j = nlohmann::json::parse(lines[0]);
  CHECK(j["password"] == "***");
  CHECK(j["empty"] == "");
  CHECK(j["cat"] == "test");
  CHECK(j["msg"] == "connected");
}

TEST_CASE("size rotation keeps `keep` old files and removes older ones") {
  TempDir t;
  const auto path = t.file("s.log");
  std::ofstream(path + ".7") << "left by a larger keep\n";
  {
    log::Logger lg(log::Level::info, log::Sink{path, /*rotate_bytes=*/1, /*keep=*/3, /*max_age_hours=*/0});
    for (int i = 0; i < 6; ++i) lg.info("test", "line " + std::to_string(i));
  }
  // Every line fills a file: the current file is empty, .1 is line 5, .2 line 4, .3 line 3.
  CHECK(lines_of(path).empty());
  for (int i = 1; i <= 3; ++i) {
    auto l = lines_of(path + "." + std::to_string(i));
    REQUIRE(l.size() == 1);
    CHECK(nlohmann::json::parse(l[0])["msg"] == "line " + std::to_string(6 - i));
  }
  CHECK_FALSE(fs::exists(path + ".4"));
  CHECK_FALSE(fs::exists(path + ".7"));
}

TEST_CASE("age rotation: a file started max_age_hours ago is rotated before the next line") {
  TempDir t;
  FakeClock clock;
  const auto path = t.file("age.log");
  log::Logger lg(log::Level::info, log::Sink{path, /*rotate_bytes=*/0, /*keep=*/2, /*max_age_hours=*/24},
                 clock.fn());
  lg.info("test", "first");
  clock.now += hours(23) + minutes(59);
  lg.info("test", "second");
  CHECK(lines_of(path).size() == 2);
  CHECK_FALSE(fs::exists(path + ".1"));
  clock.now += minutes(1);  // 24 h after the first line
  lg.info("test", "third");
  CHECK(lines_of(path + ".1").size() == 2);
  auto cur = lines_of(path);
  REQUIRE(cur.size() == 1);
  CHECK(nlohmann::json::parse(cur[0])["msg"] == "third");
  // The age counts from the first line of the new file, not from the rotation.
  clock.now += hours(23);
  lg.info("test", "fourth");
  CHECK(lines_of(path).size() == 2);
  clock.now += hours(1);
  lg.info("test", "fifth");
  clock.now += hours(24);
  lg.info("test", "sixth");
  CHECK(lines_of(path).size() == 1);
  CHECK(lines_of(path + ".1").size() == 1);   // "fifth"
  CHECK(lines_of(path + ".2").size() == 2);   // "third", "fourth"
  CHECK_FALSE(fs::exists(path + ".3"));       // "first", "second" removed (keep = 2)
}

TEST_CASE("age of an existing file comes from its first line, so a restart does not reset it") {
  TempDir t;
  FakeClock clock;
  const auto path = t.file("restart.log");
  log::Sink sink{path, 0, 5, /*max_age_hours=*/1};
  {
    log::Logger lg(log::Level::info, sink, clock.fn());
    lg.info("test", "before restart");
  }
  clock.now += hours(2);
  log::Logger lg(log::Level::info, sink, clock.fn());
  lg.info("test", "after restart");
  CHECK(lines_of(path + ".1").size() == 1);
  CHECK(lines_of(path).size() == 1);
}

TEST_CASE("many threads, tiny files: no line is lost or torn") {
  TempDir t;
  const auto path = t.file("mt.log");
  constexpr int kThreads = 8, kLines = 500;
  {
    log::Logger lg(log::Level::info, log::Sink{path, /*rotate_bytes=*/4096, /*keep=*/1000, 0});
    std::vector<std::thread> ts;
    for (int k = 0; k < kThreads; ++k)
      ts.emplace_back([&lg, k] {
        for (int i = 0; i < kLines; ++i) lg.info("test", "x", {{"t", k}, {"i", i}});
      });
    for (auto& th : ts) th.join();
  }
  std::vector<std::vector<bool>> seen(kThreads, std::vector<bool>(kLines, false));
  int total = 0;
  for (const auto& e : fs::directory_iterator(t.dir))
    for (const auto& l : lines_of(e.path().string())) {
      auto j = nlohmann::json::parse(l);  // throws on a torn line
      seen[j["t"].get<int>()][j["i"].get<int>()] = true;
      ++total;
    }
  CHECK(total == kThreads * kLines);
  for (int k = 0; k < kThreads; ++k)
    for (int i = 0; i < kLines; ++i) CHECK(seen[k][i]);
}

TEST_CASE("levels are checked and can change while running") {
  TempDir t;
  const auto path = t.file("lvl.log");
  log::Logger lg(log::Level::warn, log::Sink{path});
  lg.info("test", "dropped");
  lg.warn("test", "kept");
  lg.set_level(log::Level::debug);
  lg.debug("test", "kept too");
  CHECK(lines_of(path).size() == 2);
}
