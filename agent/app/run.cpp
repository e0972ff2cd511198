// `run`: the composition root. Builds every stage from the typed config and wires them:
// sources -> intake (spool, verify, queue) -> uploader -> after_upload back at the source.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "agent/app/commands.hpp"
#include "agent/app/config.hpp"
#include "agent/app/stop_signals.hpp"
#include "agent/app/health_file.hpp"
#include "agent/queue/intake.hpp"
#include "agent/report/heartbeat.hpp"
#include "agent/report/task_report.hpp"
#include "agent/queue/self_check.hpp"
#include "agent/queue/sqlite_queue.hpp"
#include "agent/upload/uploader.hpp"

#ifndef LIGHTBOX_VERSION
#define LIGHTBOX_VERSION "0.0.0"
#endif

namespace lightbox::agent::app {
namespace {

constexpr std::string_view kCat = "agent.run";

upload::UploadConfig upload_config(const AgentConfig& cfg) {
  upload::UploadConfig u;
  u.concurrency = cfg.upload.concurrency;
  u.retry_initial_ms = cfg.upload.retry_initial_seconds * 1000;
  u.retry_max_ms = cfg.upload.retry_max_seconds * 1000;
  u.client.base_url = cfg.hub.url;
  u.client.ca_file = cfg.hub.ca_file;
  u.client.token = cfg.hub.token;
  u.client.connect_timeout_seconds = cfg.hub.connect_timeout_seconds;
  u.client.timeout_seconds = cfg.hub.timeout_seconds;
  u.client.headers.emplace_back(std::string(wire::kHeaderAgent), cfg.id);
  return u;
}

/// Everything one run owns, in construction order (destroyed in reverse).
class Runner {
 public:
  Runner(const AgentConfig& cfg, log::Logger& log, std::string config_path)
      : cfg_(cfg), log_(log), config_path_(std::move(config_path)), spool_(cfg.data_dir), verifier_(cfg.verify) {}
  ~Runner() {
    heartbeat_.reset();
    uploader_.reset();  // workers stop before anything they use goes away
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  Status open() {
    std::error_code ec;
    std::filesystem::create_directories(cfg_.data_dir, ec);
    if (ec) return fail(Errc::io_error, "cannot create data_dir " + cfg_.data_dir + ": " + ec.message());
    // One `run` per data_dir: a second one would take the first one's uploads back at start-up.
    lock_fd_ = ::open((cfg_.data_dir + "/run.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
      return fail(Errc::conflict, "another lightbox-agent run is using " + cfg_.data_dir);
    if (auto s = spool_.prepare(); !s) return s;
    health_ = std::make_unique<HealthFile>(cfg_.data_dir + "/health.json");
    // A damaged queue.db is set aside and rebuilt from the spool below (Intake::recover); never
    // a crash loop on a corrupt file.
    check_ = queue::self_check(cfg_.queue_db(), queue::unix_now_ms());
    if (check_.damaged) {
      log_.error(kCat, "queue.db is damaged: set aside, rebuilding the queue from the spool",
                 {{"problem", check_.problem}, {"moved_to", check_.moved_to},
                  {"lost_items", check_.lost_items}, {"lost_seen", check_.lost_seen}});
      if (check_.moved_to.empty()) return fail(Errc::db_error, "queue.db is damaged and cannot be set aside: " + check_.problem);
    }
    std::int64_t recovered = 0;
    auto q = queue::SqliteQueue::open(cfg_.queue_db(), &recovered);
    if (!q) return std::move(q).error();
    queue_ = std::move(*q);
    if (recovered > 0) log_.info(kCat, "items left uploading by the last run are verified again", {{"count", recovered}});
    auto seen = sources::SeenStore::open(cfg_.queue_db());
    if (!seen) return std::move(seen).error();
    seen_ = std::make_unique<sources::SeenStore>(std::move(*seen));
    for (const auto& spec : cfg_.sources) {
      SourceContext ctx{*seen_, cfg_.data_dir + "/staging/" + spec.name, log_, cfg_.queue_db()};
      auto src = spec.build(ctx);
      by_name_[spec.name] = src.get();
      sources_.push_back(std::move(src));
    }
    ucfg_ = upload_config(cfg_);
    if (!cfg_.upload.bandwidth.unlimited()) {
      limiter_ = std::make_unique<upload::RateLimiter>(cfg_.upload.bandwidth);
      ucfg_.limiter = limiter_.get();
      log_.info(kCat, "bandwidth cap", {{"mbps_now", limiter_->current_mbps()},
                                        {"default_mbps", cfg_.upload.bandwidth.default_mbps},
                                        {"windows", static_cast<std::int64_t>(cfg_.upload.bandwidth.windows.size())}});
    }
    uploader_ = std::make_unique<upload::Uploader>(ucfg_, *queue_, spool_, cancel_, log_,
                                                   [this](const queue::Item& it) { delivered(it); });
    intake_ = std::make_unique<queue::Intake>(
        spool_, *queue_, verifier_, log_, [this] { uploader_->notify(); }, [this] { return cancel_.requested(); });
    intake_->set_space_guard([this] { return has_room(); });
    tasks_ = std::make_unique<report::TaskReporter>(cfg_.data_dir + "/staging/@tasks", *intake_, log_);
    if (cfg_.report.heartbeat_seconds > 0) heartbeat_ = std::make_unique<report::Heartbeat>(heartbeat_options(), log_);
    return {};
  }

  int run(bool once) {
    auto started = std::chrono::steady_clock::now();
    StopSignals signals(cancel_, std::chrono::seconds(cfg_.upload.stop_grace_seconds));
    auto rec = intake_->recover();
    if (rec.collected > 0) log_.info(kCat, "re-queued spool files", {{"count", rec.collected}});
    if (check_.damaged) {
      check_.rebuilt = rec.collected + rec.quarantined;
      const std::int64_t n = check_.may_need_recollection();
      log_.error(kCat,
                 (n >= 0 ? std::to_string(n) : std::string("an unknown number of")) +
                     " items may need re-collection (the sources are re-scanned in full; the hub de-duplicates)",
                 {{"may_need_recollection", check_.may_need_recollection()}, {"rebuilt_from_spool", check_.rebuilt},
                  {"moved_to", check_.moved_to}});
      health_->set_self_check(check_);
    }
    disk_full_ = !has_room();
    health_->set_disk(disk_full_, free_mb_, cfg_.min_free_mb);
    uploader_->start();
    if (!once && heartbeat_) heartbeat_->start();
    once ? collect_once() : collect_forever();
    if (heartbeat_) heartbeat_->stop();
    if (once) uploader_->finish_when_idle();
    uploader_->join();
    if (once && heartbeat_ && cfg_.report.heartbeat_explicit) heartbeat_->beat_once();  // the final state
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const auto& st = uploader_->stats();
    if (once) {
      nlohmann::json summary{{"collected", totals_.collected}, {"uploaded", st.uploaded.load()},
                             {"already_stored", st.already_stored.load()}, {"records", st.records.load()}, {"quarantined", totals_.quarantined},
                             {"failed", st.failed.load()}, {"bytes", st.bytes.load()},
                             {"seconds", std::round(secs * 1000) / 1000}};
      std::cout << summary.dump() << std::endl;
    }
    log_.info(kCat, cancel_.requested() ? "stopped" : "finished",
              {{"uploaded", st.uploaded.load()}, {"failed", st.failed.load()}, {"seconds", secs}});
    return 0;
  }

 private:
  void scan(sources::Source& src) {
    sources::SourceState state{src.name(), std::string(src.kind()), queue::unix_now_ms(), {}, src.poll_seconds(), {}};
    auto found = src.scan();
    if (!found) {
      state.last_error = found.error().to_string();
      log_.warn(kCat, "scan failed", {{"source", src.name()}, {"error", state.last_error}});
    } else if (!found->empty()) {
      auto s = intake_->admit(src, *found);
      tasks_->report({src.name(), std::string(src.kind()), state.last_scan_at_ms, queue::unix_now_ms(),
                      static_cast<std::int64_t>(found->size()), s});
      totals_.collected += s.collected;
      totals_.quarantined += s.quarantined;
      update_disk(s.storage_full);
      log_.info(kCat, "collected", {{"source", src.name()}, {"files", s.collected}, {"quarantined", s.quarantined},
                                    {"duplicates", s.duplicates}, {"errors", s.errors}});
    }
    if (auto s = seen_->record_scan(state); !s) log_.warn(kCat, "cannot record scan", {{"error", s.error().to_string()}});
    if (!found || found->empty()) update_disk(false);
  }

  // Free space on the spool's filesystem against agent.min_free_mb.
  bool has_room() {
    auto sp = fsio::disk_space(spool_.spool_dir());
    if (!sp) return true;  // cannot tell: ENOSPC still pauses collection
    free_mb_ = static_cast<std::int64_t>(sp->free >> 20);
    return free_mb_ >= cfg_.min_free_mb;
  }

  // Disk-full state for status: set by a guard/ENOSPC hit, cleared once space is back.
  void update_disk(bool hit) {
    bool full = hit || !has_room();
    if (full != disk_full_) {
      if (full)
        log_.error(kCat, "spool disk full: collection paused, uploads go on",
                   {{"free_mb", free_mb_}, {"min_free_mb", cfg_.min_free_mb}});
      else
        log_.info(kCat, "spool disk has room again: collection resumed", {{"free_mb", free_mb_}});
    }
    disk_full_ = full;
    health_->set_disk(disk_full_, free_mb_, cfg_.min_free_mb);
  }

  // --once: a first scan records what is there, then wait out stable_seconds and collect.
  // Files still changing after a few rounds are being written and are left for the next run.
  void collect_once() {
    std::int64_t stable = 1;
    for (const auto& src : sources_) stable = std::max(stable, src->stable_seconds());
    for (int round = 0; round < 4 && !cancel_.requested(); ++round) {
      std::size_t pending = 0;
      for (auto& src : sources_) {
        scan(*src);
        pending += src->pending();
      }
      if (pending == 0) break;  // everything found so far is collected
      if (cancel_.wait_for(std::chrono::milliseconds(stable * 1000 + 50))) break;
    }
  }

  void collect_forever() {
    std::map<std::string, std::int64_t> next_at;
    while (!cancel_.requested()) {
      const std::int64_t now = sources::steady_now_ms();
      std::int64_t wake = now + 60'000;
      for (std::size_t i = 0; i < sources_.size(); ++i) {
        auto& src = *sources_[i];
        auto& at = next_at[src.name()];
        if (at <= now) {
          scan(src);
          at = sources::steady_now_ms() + src.poll_seconds() * 1000;
        }
        wake = std::min(wake, at);
      }
      cancel_.wait_for(std::chrono::milliseconds(std::max<std::int64_t>(1, wake - sources::steady_now_ms())));
    }
  }

  // The heartbeat's own client: short timeouts, so a beat never holds up a stop for long.
  report::HeartbeatOptions heartbeat_options() {
    report::HeartbeatOptions h;
    h.client = ucfg_.client;
    h.client.connect_timeout_seconds = std::min<long>(h.client.connect_timeout_seconds, 5);
    h.client.timeout_seconds = std::min<long>(h.client.timeout_seconds, 15);
    h.interval_s = cfg_.report.heartbeat_seconds;
    h.version = LIGHTBOX_VERSION;
    h.config_path = config_path_;
    h.queue_db = cfg_.queue_db();
    h.spool_dir = spool_.spool_dir();
    h.uploaded_totals = [this] {
      const auto& st = uploader_->stats();
      return std::pair<std::int64_t, std::int64_t>(st.uploaded.load() + st.already_stored.load(), st.bytes.load());
    };
    h.disk_full = [this] { return disk_full_.load(); };
    return h;
  }

  void delivered(const queue::Item& claimed) {
    queue::Item it = claimed;
    if (it.source.empty()) {
      // A recovered orphan may have been adopted by a source while it was uploading.
      if (auto fresh = queue_->find(it.sha256); fresh.ok() && *fresh) it = **fresh;
    }
    auto found = by_name_.find(it.source);
    if (found == by_name_.end()) return;  // a recovered spool orphan: no source file to touch
    if (auto s = found->second->after_upload(it.rel_path, it.size); !s)
      log_.warn(kCat, "after_upload", {{"source", it.source}, {"path", it.rel_path}, {"error", s.error().to_string()}});
  }

  const AgentConfig& cfg_;
  log::Logger& log_;
  std::string config_path_;
  int lock_fd_ = -1;
  upload::Cancel cancel_;
  queue::Spool spool_;
  verify::Verifier verifier_;
  std::unique_ptr<queue::SqliteQueue> queue_;
  std::unique_ptr<sources::SeenStore> seen_;
  std::vector<std::unique_ptr<sources::Source>> sources_;
  std::map<std::string, sources::Source*> by_name_;
  upload::UploadConfig ucfg_;
  std::unique_ptr<upload::Uploader> uploader_;
  std::unique_ptr<queue::Intake> intake_;
  std::unique_ptr<report::TaskReporter> tasks_;  // collection_task records after each scan that found something
  std::unique_ptr<upload::RateLimiter> limiter_;
  std::unique_ptr<HealthFile> health_;
  std::unique_ptr<report::Heartbeat> heartbeat_;  // after the uploader: stopped before it goes away
  queue::SelfCheckReport check_;
  std::atomic<bool> disk_full_{false};  // read by the heartbeat thread
  std::int64_t free_mb_ = -1;
  queue::IntakeStats totals_;
};

}  // namespace

int run_command(const std::string& config_path, bool once) {
  block_stop_signals();
  config::Problems problems;
  AgentConfig cfg = load_config(config_path, problems);
  if (!problems.empty()) {
    std::cerr << problems.to_string();
    return 1;
  }
  log::Level level = log::Level::info;
  log::parse_level(cfg.log.level, level);
  log::Logger log(level, log::Sink{cfg.log.file, 64ull << 20, 5});
  http::GlobalInit curl;
  try {
    Runner runner(cfg, log, config_path);
    if (auto s = runner.open(); !s) {
      log.error(kCat, "cannot start", {{"error", s.error().to_string()}});
      std::cerr << "lightbox-agent: " << s.error().to_string() << "\n";
      return 1;
    }
    return runner.run(once);
  } catch (const std::exception& e) {
    log.error(kCat, "fatal", {{"error", e.what()}});
    std::cerr << "lightbox-agent: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace lightbox::agent::app
