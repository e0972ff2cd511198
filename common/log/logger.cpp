#include "common/log/logger.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>

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

std::string now_iso() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::time_t t = system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

bool parse_level(std::string_view s, Level& out) {
  for (Level l : {Level::debug, Level::info, Level::warn, Level::error, Level::off})
    if (s == level_name(l)) { out = l; return true; }
  return false;
}

Logger::Logger(Level level, Sink sink) : level_(level), sink_(std::move(sink)) {
  if (!sink_.path.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(sink_.path).parent_path(), ec);
    out_ = std::fopen(sink_.path.c_str(), "a");
    if (out_) written_ = static_cast<std::uint64_t>(std::ftell(out_));
  }
  if (!out_) out_ = stderr;
}

Logger::~Logger() {
  if (out_ && out_ != stderr) std::fclose(out_);
}

void Logger::rotate_locked() {
  namespace fs = std::filesystem;
  std::fclose(out_);
  std::error_code ec;
  for (int i = sink_.keep - 1; i >= 1; --i)
    fs::rename(sink_.path + "." + std::to_string(i), sink_.path + "." + std::to_string(i + 1), ec);
  fs::rename(sink_.path, sink_.path + ".1", ec);
  out_ = std::fopen(sink_.path.c_str(), "a");
  if (!out_) out_ = stderr;
  written_ = 0;
}

void Logger::write(Level l, std::string_view category, std::string_view msg, nlohmann::json fields) {
  nlohmann::json line = nlohmann::json::object();
  line["ts"] = now_iso();
  line["level"] = level_name(l);
  line["cat"] = category;
  line["msg"] = msg;
  if (fields.is_object())
    for (auto& [k, v] : fields.items()) line[k] = std::move(v);
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  std::lock_guard lock(mu_);
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
  written_ += text.size();
  if (out_ != stderr && sink_.rotate_bytes && written_ >= sink_.rotate_bytes) rotate_locked();
}

}  // namespace lightbox::log
