#include "agent/report/heartbeat.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "agent/queue/sqlite_queue.hpp"
#include "common/clock/clock.hpp"
#include "common/fsio/atomic_file.hpp"
#include "common/hash/sha256.hpp"

namespace lightbox::agent::report {
namespace {

constexpr std::string_view kCat = "agent.heartbeat";
constexpr std::string_view kHeartbeatsPath = "/api/v1/heartbeats";

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::int64_t proc_kb_field(std::string_view text, std::string_view key) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto eol = text.find('\n', pos);
    auto line = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      long long kb = -1;
      if (std::sscanf(std::string(line.substr(key.size() + 1)).c_str(), "%lld", &kb) == 1 && kb >= 0)
        return static_cast<std::int64_t>(kb) * 1024;
      return -1;
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return -1;
}

HostStats read_host_stats(const std::string& proc_root) {
  HostStats h;
  h.rss_bytes = proc_kb_field(slurp(proc_root + "/self/status"), "VmRSS");
  const std::string mem = slurp(proc_root + "/meminfo");
  h.mem_total_bytes = proc_kb_field(mem, "MemTotal");
  h.mem_available_bytes = proc_kb_field(mem, "MemAvailable");
  const std::string load = slurp(proc_root + "/loadavg");
  if (std::sscanf(load.c_str(), "%lf %lf %lf", &h.load1, &h.load5, &h.load15) != 3)
    h.load1 = h.load5 = h.load15 = -1;
  return h;
}

nlohmann::json build_heartbeat(const BeatInputs& in) {
  nlohmann::json status = to_json(in.snapshot);
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& s : in.snapshot.sources)
    sources.push_back(
        {{"name", s.name},
         {"kind", s.kind},
         {"last_scan_at",
          s.last_scan_at_ms > 0 ? nlohmann::json(clock::iso_utc(s.last_scan_at_ms)) : nlohmann::json(nullptr)},
         {"last_error", s.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.last_error)}});
  nlohmann::json errors = nlohmann::json::object();
  for (const auto& [code, n] : in.errors) errors[code] = n;
  auto opt_int = [](std::int64_t v) { return v < 0 ? nlohmann::json(nullptr) : nlohmann::json(v); };
  auto opt_real = [](double v) { return v < 0 ? nlohmann::json(nullptr) : nlohmann::json(v); };
  return {{"version", in.version},
          {"interval_seconds", in.interval_s},
          {"uptime_s", in.uptime_s},
          {"config_sha256", in.config_sha256},
          {"clock_ms", in.clock_ms},
          {"clock", clock::iso_utc(in.clock_ms)},
          {"queue", status["queue"]},
          {"backlog_bytes", status["backlog_bytes"]},
          {"oldest_pending_age_seconds", status["oldest_pending_age_seconds"]},
          {"uploaded", {{"items", in.uploaded_items}, {"bytes", in.uploaded_bytes}}},
          {"errors", std::move(errors)},
          {"sources", std::move(sources)},
          {"spool",
           {{"total_bytes", in.spool_total}, {"free_bytes", in.spool_free}, {"disk_full", in.disk_full}}},
          {"process", {{"rss_bytes", opt_int(in.host.rss_bytes)}}},
          {"host",
           {{"mem_total_bytes", opt_int(in.host.mem_total_bytes)},
            {"mem_available_bytes", opt_int(in.host.mem_available_bytes)},
            {"load1", opt_real(in.host.load1)},
            {"load5", opt_real(in.host.load5)},
            {"load15", opt_real(in.host.load15)}}}};
}

Result<std::map<std::string, std::int64_t>> errors_since(const std::string& db_path, std::int64_t since_ms) {
  std::map<std::string, std::int64_t> out;
  std::error_code ec;
  if (!std::filesystem::exists(db_path, ec)) return out;
  auto db = sqlite::Db::open(db_path, {.read_only = true});
  if (!db) return std::move(db).error();
  auto st = db->prepare(
      "SELECT last_error_code, count(*) FROM items WHERE last_error_code IS NOT NULL AND last_error_code<>'' "
      "AND updated_at>? GROUP BY last_error_code");
  if (!st) return std::move(st).error();
  st->bind(1, since_ms);
  for (;;) {
    auto row = st->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out[st->text(0)] = st->int64(1);
  }
  return out;
}

Heartbeat::Heartbeat(HeartbeatOptions opts, log::Logger& log) : opts_(std::move(opts)), log_(log) {
  auto digest = hash::sha256_file(opts_.config_path);
  if (digest) config_sha256_ = *digest;
  last_beat_ms_ = unix_ms();
  if (opts_.uploaded_totals) std::tie(last_items_, last_bytes_) = opts_.uploaded_totals();
  opts_.client.cancelled = [this] {
    std::lock_guard lock(mu_);
    return stop_;
  };
  client_ = std::make_unique<http::Client>(opts_.client);
}

Heartbeat::~Heartbeat() { stop(); }

void Heartbeat::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { loop(); });
}

void Heartbeat::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  stop_ = false;  // beat_once() may still be called (--once: the final beat)
}

void Heartbeat::loop() {
  std::mt19937_64 rng(std::random_device{}());
  const double base_ms = static_cast<double>(opts_.interval_s) * 1000.0;
  std::uniform_real_distribution<double> jitter(0.9 * base_ms, 1.1 * base_ms);
  for (;;) {
    beat_once();
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, std::chrono::milliseconds(static_cast<std::int64_t>(jitter(rng))),
                     [this] { return stop_; }))
      return;
  }
}

BeatInputs Heartbeat::gather() {
  BeatInputs in;
  in.version = opts_.version;
  in.interval_s = opts_.interval_s;
  in.uptime_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count();
  in.config_sha256 = config_sha256_;
  in.clock_ms = unix_ms();
  if (auto snap = read_snapshot(opts_.queue_db, in.clock_ms); snap)
    in.snapshot = std::move(*snap);
  else
    log_.warn(kCat, "cannot read the queue", {{"error", snap.error().to_string()}});
  if (auto errs = errors_since(opts_.queue_db, last_beat_ms_); errs) in.errors = std::move(*errs);
  if (opts_.uploaded_totals) {
    auto [items, bytes] = opts_.uploaded_totals();
    in.uploaded_items = items - last_items_;
    in.uploaded_bytes = bytes - last_bytes_;
    last_items_ = items;
    last_bytes_ = bytes;
  }
  if (auto sp = fsio::disk_space(opts_.spool_dir); sp) {
    in.spool_total = static_cast<std::int64_t>(sp->total);
    in.spool_free = static_cast<std::int64_t>(sp->free);
  }
  in.disk_full = opts_.disk_full ? opts_.disk_full() : false;
  in.host = read_host_stats();
  last_beat_ms_ = in.clock_ms;
  return in;
}

bool Heartbeat::beat_once() {
  try {
    const std::string body = build_heartbeat(gather()).dump();
    auto r = client_->send("POST", std::string(kHeartbeatsPath), body);
    if (!r) {
      log_.warn(kCat, "heartbeat not delivered", {{"error", r.error().to_string()}});
      return false;
    }
    if (r->status != 200) {
      log_.warn(kCat, "heartbeat refused", {{"status", r->status}, {"body", r->body.substr(0, 300)}});
      return false;
    }
    log_.debug(kCat, "heartbeat delivered", {{"bytes", static_cast<std::int64_t>(body.size())}});
    return true;
  } catch (const std::exception& e) {
    log_.warn(kCat, "heartbeat failed", {{"error", e.what()}});
    return false;
  }
}

}  // namespace lightbox::agent::report
