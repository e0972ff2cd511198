#include "common/log/logger.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <optional>

#include "common/clock/clock.hpp"

namespace lightbox::log {
namespace {

const char* level_name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
    default: return "off";
  }
}

// When an existing log file was started: the "ts" of its first line ("2026-11-28T02:40:00.123Z").
std::optional<std::chrono::system_clock::time_point> first_line_time(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  if (!std::getline(f, line)) return std::nullopt;
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("ts") || !j["ts"].is_string()) return std::nullopt;
  std::tm tm{};
  const std::string ts = j["ts"].get<std::string>();
  if (std::sscanf(ts.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

bool parse_level(std::string_view s, Level& out) {
  for (Level l : {Level::debug, Level::info, Level::warn, Level::error, Level::off})
    if (s == level_name(l)) { out = l; return true; }
  return false;
}

Logger::Logger(Level level, Sink sink, Clock clock)
    : level_(level), sink_(std::move(sink)), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
  if (!sink_.path.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(sink_.path).parent_path(), ec);
  }
  open_locked();
  if (written_ > 0) started_ = first_line_time(sink_.path).value_or(clock_());
}

Logger::~Logger() {
  if (out_ && out_ != stderr) std::fclose(out_);
}

void Logger::open_locked() {
  written_ = 0;
  out_ = sink_.path.empty() ? nullptr : std::fopen(sink_.path.c_str(), "a");
  if (out_) {
    std::fseek(out_, 0, SEEK_END);
    written_ = static_cast<std::uint64_t>(std::max(0L, std::ftell(out_)));
  } else {
    out_ = stderr;  // a file that cannot be opened: lines still go somewhere
  }
}

void Logger::rotate_locked() {
  namespace fs = std::filesystem;
  std::fclose(out_);
  std::error_code ec;
  const auto name = [&](int i) { return sink_.path + "." + std::to_string(i); };
  const int keep = std::max(0, sink_.keep);
  // Old files beyond `keep` (left by a larger keep before) go first, then each shifts up one.
  const fs::path base(sink_.path);
  const std::string prefix = base.filename().string() + ".";
  for (fs::directory_iterator it(base.parent_path().empty() ? "." : base.parent_path(), ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string f = it->path().filename().string();
    if (f.size() <= prefix.size() || f.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string n = f.substr(prefix.size());
    if (n.find_first_not_of("0123456789") == std::string::npos && n.size() < 9 && std::stoi(n) > keep) {
      std::error_code rm;
      fs::remove(it->path(), rm);
    }
  }
  if (keep == 0) {
    fs::remove(sink_.path, ec);
  } else {
    int last = 0;  // path.1 ... path.last exist (and are shifted); path.keep is dropped
    while (last < keep - 1 && fs::exists(name(last + 1), ec)) ++last;
    fs::remove(name(keep), ec);
    for (int i = last; i >= 1; --i) fs::rename(name(i), name(i + 1), ec);
    fs::rename(sink_.path, name(1), ec);
  }
  open_locked();
}

void Logger::write(Level l, std::string_view category, std::string_view msg, nlohmann::json fields) {
  const auto now = clock_();
  nlohmann::json line = nlohmann::json::object();
  line["ts"] = clock::iso_utc_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  line["level"] = level_name(l);
  line["cat"] = category;
  line["msg"] = msg;
  if (fields.is_object())
    for (auto& [k, v] : fields.items()) line[k] = std::move(v);
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  std::lock_guard lock(mu_);
  if (out_ != stderr && written_ > 0 && sink_.max_age_hours > 0 && now - started_ >= std::chrono::hours(sink_.max_age_hours))
    rotate_locked();
  if (out_ != stderr && written_ == 0) started_ = now;
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
  written_ += text.size();
  if (out_ != stderr && sink_.rotate_bytes && written_ >= sink_.rotate_bytes) rotate_locked();
}

}  // namespace lightbox::log
