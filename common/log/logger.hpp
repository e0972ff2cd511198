#pragma once
// Diagnostics as JSON lines: {"ts","level","cat","msg", ...fields}. Levels are checked before
// anything is formatted. Data (receipts, audit findings, access log) never goes here.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace lightbox::log {

enum class Level { debug = 0, info, warn, error, off };

/// Parses "debug" / "info" / "warn" / "error" / "off".
bool parse_level(std::string_view s, Level& out);

/// A secret value: usable by code through reveal(), printed everywhere else as "***".
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string v) : v_(std::move(v)) {}
  const std::string& reveal() const { return v_; }
  bool empty() const { return v_.empty(); }
  friend void to_json(nlohmann::json& j, const Secret& s) { j = s.v_.empty() ? "" : "***"; }

 private:
  std::string v_;
};

/// Where log lines go: stderr, or a file that rotates by size and by age, keeping `keep` old
/// files (path.1 newest ... path.N oldest; older ones are removed).
struct Sink {
  std::string path;                 // empty = stderr
  std::uint64_t rotate_bytes = 0;   // rotate once the file reaches this size; 0 = never
  int keep = 5;                     // old files kept; 0 = none
  std::int64_t max_age_hours = 168; // rotate before writing to a file started this long ago; 0 = never
};

/// The time source of a Logger (line timestamps and file age); tests pass a fake one.
using Clock = std::function<std::chrono::system_clock::time_point()>;

/// Thread-safe JSON-lines logger. One per program, built in the composition root and passed
/// down by reference; categories are plain strings ("agent.upload").
class Logger {
 public:
  explicit Logger(Level level = Level::info, Sink sink = {}, Clock clock = {});
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  bool enabled(Level l) const {
    Level cur = level_.load(std::memory_order_relaxed);
    return l >= cur && cur != Level::off;
  }
  void set_level(Level l) { level_.store(l, std::memory_order_relaxed); }

  void write(Level l, std::string_view category, std::string_view msg, nlohmann::json fields = {});
  void debug(std::string_view cat, std::string_view msg, nlohmann::json f = {}) { if (enabled(Level::debug)) write(Level::debug, cat, msg, std::move(f)); }
  void info(std::string_view cat, std::string_view msg, nlohmann::json f = {}) { if (enabled(Level::info)) write(Level::info, cat, msg, std::move(f)); }
  void warn(std::string_view cat, std::string_view msg, nlohmann::json f = {}) { if (enabled(Level::warn)) write(Level::warn, cat, msg, std::move(f)); }
  void error(std::string_view cat, std::string_view msg, nlohmann::json f = {}) { if (enabled(Level::error)) write(Level::error, cat, msg, std::move(f)); }

 private:
  void open_locked();
  void rotate_locked();

  std::atomic<Level> level_;
  Sink sink_;
  Clock clock_;
  std::mutex mu_;
  std::FILE* out_ = nullptr;
  std::uint64_t written_ = 0;
  std::chrono::system_clock::time_point started_{};  // when the current file got its first line
};

}  // namespace lightbox::log
