#pragma once
// Diagnostics as JSON lines: {"ts","level","cat","msg", ...fields}. Levels are checked before
// anything is formatted. Data (receipts, audit findings, access log) never goes here.
#include <cstdio>
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

/// Where log lines go: stderr, or a file that rotates by size (keeping `keep` old files).
struct Sink {
  std::string path;               // empty = stderr
  std::uint64_t rotate_bytes = 0;  // 0 = never
  int keep = 5;
};

/// Thread-safe JSON-lines logger. One per program, built in the composition root and passed
/// down by reference; categories are plain strings ("agent.upload").
class Logger {
 public:
  explicit Logger(Level level = Level::info, Sink sink = {});
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  bool enabled(Level l) const { return l >= level_ && level_ != Level::off; }
  void set_level(Level l) { level_ = l; }

  void write(Level l, std::string_view category, std::string_view msg, nlohmann::json fields = {});
  void debug(std::string_view cat, std::string_view msg, nlohmann::json f = {}) { if (enabled(Level::debug)) write(Level::debug, cat, msg, std::move(f)); }
  void info(std::string_view cat, std::string_view msg, nlohmann::json f = {}) { if (enabled(Level::info)) write(Level::info, cat, msg, std::move(f)); }
  void warn(std::string_view cat, std::string_view msg, nlohmann::json f = {}) { if (enabled(Level::warn)) write(Level::warn, cat, msg, std::move(f)); }
  void error(std::string_view cat, std::string_view msg, nlohmann::json f = {}) { if (enabled(Level::error)) write(Level::error, cat, msg, std::move(f)); }

 private:
  void rotate_locked();

  Level level_;
  Sink sink_;
  std::mutex mu_;
  std::FILE* out_ = nullptr;
  std::uint64_t written_ = 0;
};

}  // namespace lightbox::log
