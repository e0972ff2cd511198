// `run`: the composition root. Builds every stage from the typed config and wires them:
// sources -> intake (spool, verify, queue) -> uploader -> after_upload back at the source.
// The queue, spool, seen-store and health file live as long as the run; the rest (sources,
// verifier, uploader, heartbeat) is one Pipeline that a reload (SIGHUP) stops and rebuilds.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "agent/app/commands.hpp"
#include "agent/app/config.hpp"
#include "agent/app/renewal_hook.hpp"
#include "agent/enroll/identity.hpp"
#include "agent/app/run_control.hpp"
#include "agent/app/stop_signals.hpp"
#include "agent/app/health_file.hpp"
#include "agent/metrics/metrics.hpp"
#include "agent/metrics/server.hpp"
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
  enroll::apply_identity(cfg.hub.identity_dir, u.client);  // mutual TLS once enrolled
  return u;
}

/// What one config builds and a reload replaces, in construction order (destroyed in reverse).
struct Pipeline {
  upload::Cancel cancel;  // this pipeline's stop; RunControl forwards a stop request to it
  std::unique_ptr<verify::Verifier> verifier;
  upload::UploadConfig ucfg;
  std::unique_ptr<upload::RateLimiter> limiter;
  std::vector<std::unique_ptr<sources::Source>> sources;
  std::map<std::string, sources::Source*> by_name;
  std::unique_ptr<upload::Uploader> uploader;
  std::unique_ptr<queue::Intake> intake;
  std::unique_ptr<report::TaskReporter> tasks;  // collection_task records after each scan that found something
  std::unique_ptr<report::Heartbeat> heartbeat;  // after the uploader: stopped before it goes away
  ~Pipeline() {
    heartbeat.reset();
    uploader.reset();  // workers stop before anything they use goes away
  }
};

/// Everything one run owns.
class Runner {
 public:
  Runner(AgentConfig cfg, log::Logger& log, std::string config_path, RunControl& control)
      : cfg_(std::move(cfg)), log_(log), config_path_(std::move(config_path)), control_(control),
        spool_(cfg_.data_dir), metrics_(queue::unix_now_ms()) {}
  ~Runner() {
    control_.attach(nullptr, std::chrono::seconds(0));
    metrics_server_.reset();
    pipe_.reset();
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
    pipe_ = build(cfg_);
    start_metrics();
    return {};
  }

  int run(bool once) {
    auto started = std::chrono::steady_clock::now();
    auto rec = pipe_->intake->recover();
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
    start_pipeline(!once);
    if (control_.on_started) control_.on_started();
    if (once) {
      collect_once();
      if (pipe_->heartbeat) pipe_->heartbeat->stop();
      pipe_->uploader->finish_when_idle();
      pipe_->uploader->join();
      if (pipe_->heartbeat && cfg_.report.heartbeat_explicit) pipe_->heartbeat->beat_once();  // the final state
    } else {
      while (collect_forever() == RunControl::Wake::reload) reload();
      retire_pipeline();
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (once) {
      const auto& st = pipe_->uploader->stats();
      nlohmann::json summary{{"collected", totals_.collected}, {"uploaded", st.uploaded.load()},
                             {"already_stored", st.already_stored.load()}, {"records", st.records.load()}, {"quarantined", totals_.quarantined},
                             {"failed", st.failed.load()}, {"refused", st.refused.load()}, {"bytes", st.bytes.load()},
                             {"seconds", std::round(secs * 1000) / 1000}};
      std::cout << summary.dump() << std::endl;
      add_to_retired(*pipe_);
      if (st.refused.load() > 0) {
        // The items stay queued for the next run; the exit code says this run could not deliver.
        log_.error(kCat, "the hub refused this agent's credential; queued items wait for the next run",
                   {{"refused", st.refused.load()}});
        return 1;
      }
    }
    log_.info(kCat, control_.stop_requested() ? "stopped" : "finished",
              {{"uploaded", retired_uploaded_}, {"failed", retired_failed_}, {"seconds", secs}});
    return 0;
  }

 private:
  // The pipeline for `cfg` (not started). Sources that cannot be built throw (start-up error).
  std::unique_ptr<Pipeline> build(const AgentConfig& cfg) {
    auto p = std::make_unique<Pipeline>();
    Pipeline* raw = p.get();
    p->verifier = std::make_unique<verify::Verifier>(cfg.verify);
    for (const auto& spec : cfg.sources) {
      SourceContext ctx{*seen_, cfg.data_dir + "/staging/" + spec.name, log_, cfg.queue_db()};
      auto src = spec.build(ctx);
      p->by_name[spec.name] = src.get();
      p->sources.push_back(std::move(src));
    }
    p->ucfg = upload_config(cfg);
    p->ucfg.on_attempt = [this](const queue::Item& it, double seconds, bool delivered, bool already_stored,
                                const std::string& code) {
      metrics_.record_attempt({it.kind, static_cast<std::int64_t>(it.size), seconds, delivered, already_stored, code});
    };
    if (!cfg.upload.bandwidth.unlimited()) {
      p->limiter = std::make_unique<upload::RateLimiter>(cfg.upload.bandwidth);
      p->ucfg.limiter = p->limiter.get();
      log_.info(kCat, "bandwidth cap", {{"mbps_now", p->limiter->current_mbps()},
                                        {"default_mbps", cfg.upload.bandwidth.default_mbps},
                                        {"windows", static_cast<std::int64_t>(cfg.upload.bandwidth.windows.size())}});
    }
    p->uploader = std::make_unique<upload::Uploader>(p->ucfg, *queue_, spool_, p->cancel, log_,
                                                     [this, raw](const queue::Item& it) { delivered(*raw, it); });
    p->intake = std::make_unique<queue::Intake>(
        spool_, *queue_, *p->verifier, log_, [raw] { raw->uploader->notify(); }, [raw] { return raw->cancel.requested(); });
    p->intake->set_space_guard([this] { return has_room(); });
    p->tasks = std::make_unique<report::TaskReporter>(cfg.data_dir + "/staging/@tasks", *p->intake, log_);
    if (cfg.report.heartbeat_seconds > 0)
      p->heartbeat = std::make_unique<report::Heartbeat>(heartbeat_options(cfg, p->ucfg), log_);
    return p;
  }

  void start_pipeline(bool heartbeats) {
    control_.attach(&pipe_->cancel, std::chrono::seconds(cfg_.upload.stop_grace_seconds));
    pipe_->uploader->start();
    if (heartbeats && pipe_->heartbeat) pipe_->heartbeat->start();
  }

  // Like the graceful stop, without exiting: in-flight uploads get upload.stop_grace_seconds,
  // then every thread of the pipeline is joined and the pipeline destroyed. The queue stays.
  void retire_pipeline() {
    control_.attach(nullptr, std::chrono::seconds(cfg_.upload.stop_grace_seconds));
    pipe_->cancel.request(std::chrono::seconds(cfg_.upload.stop_grace_seconds));
    if (pipe_->heartbeat) pipe_->heartbeat->stop();
    pipe_->uploader->join();
    add_to_retired(*pipe_);
    pipe_.reset();
  }

  void add_to_retired(const Pipeline& p) {
    retired_uploaded_ += p.uploader->stats().uploaded.load();
    retired_failed_ += p.uploader->stats().failed.load();
  }

  // SIGHUP: read and check the file; a bad config or a changed agent.id/data_dir keeps the
  // running pipeline untouched. A good one replaces the pipeline (nothing queued is lost).
  void reload() {
    const std::int64_t now = queue::unix_now_ms();
    log_.info(kCat, "reload requested: reading the config", {{"config", config_path_}});
    config::Problems problems;
    AgentConfig next = load_config(config_path_, problems);
    auto refuse = [&](const std::string& key, const std::string& why) {
      log_.error(kCat, "reload refused, the running config stays in effect: " + key + ": " + why,
                 {{"key", key}, {"problem", why}, {"config", config_path_}});
    };
    if (!problems.empty()) {
      for (const auto& e : problems.list()) refuse(e.field, e.message);
      metrics_.record_reload(false, now);
      return;
    }
    bool restart_needed = false;
    if (next.data_dir != cfg_.data_dir) {
      refuse("agent.data_dir", "changed from '" + cfg_.data_dir + "' to '" + next.data_dir + "'; restart the agent to use it");
      restart_needed = true;
    }
    if (next.id != cfg_.id) {
      refuse("agent.id", "changed from '" + cfg_.id + "' to '" + next.id + "'; restart the agent to use it");
      restart_needed = true;
    }
    if (restart_needed) {
      metrics_.record_reload(false, now);
      return;
    }
    if (next.log.file != cfg_.log.file)
      log_.warn(kCat, "log.file changed: the new file is used after a restart", {{"key", "log.file"}});
    log_.info(kCat, "reload: stopping sources and uploads", {{"grace_seconds", cfg_.upload.stop_grace_seconds}});
    retire_pipeline();
    AgentConfig previous = cfg_;
    cfg_ = std::move(next);
    try {
      pipe_ = build(cfg_);
    } catch (const std::exception& e) {
      log_.error(kCat, "reload failed while building the new sources; going back to the previous config",
                 {{"error", e.what()}});
      metrics_.record_reload(false, now);
      cfg_ = std::move(previous);
      pipe_ = build(cfg_);
      start_pipeline(true);
      return;
    }
    log::Level level = log::Level::info;
    log::parse_level(cfg_.log.level, level);
    log_.set_level(level);
    start_pipeline(true);
    if (cfg_.metrics.listen != previous.metrics.listen) {
      metrics_server_.reset();
      start_metrics();
    }
    std::vector<std::string> names;
    for (const auto& spec : cfg_.sources) names.push_back(spec.name);
    metrics_.keep_sources(names);
    metrics_.record_reload(true, now);
    log_.info(kCat, "config reloaded", {{"sources", static_cast<std::int64_t>(cfg_.sources.size())}});
  }

  // metrics.listen: the local /metrics endpoint. A port that cannot be bound is logged; uploads
  // matter more than the metrics, so the run goes on without it.
  void start_metrics() {
    if (cfg_.metrics.listen.empty()) return;
    auto at = metrics::parse_listen(cfg_.metrics.listen);
    if (!at) return;  // load_config already refused it
    auto server = metrics::Server::start(
        *at,
        [this, db = cfg_.queue_db()] {
          auto snap = report::read_snapshot(db, queue::unix_now_ms());
          return metrics_.render(snap ? *snap : report::Snapshot{}, snap ? std::string() : snap.error().to_string());
        },
        log_);
    if (!server) {
      log_.error(kCat, "metrics endpoint not started", {{"key", "metrics.listen"}, {"error", server.error().to_string()}});
      return;
    }
    metrics_server_ = std::move(*server);
  }

  void scan(sources::Source& src) {
    sources::SourceState state{src.name(), std::string(src.kind()), queue::unix_now_ms(), {}, src.poll_seconds(), {}};
    auto found = src.scan();
    metrics_.record_scan(src.name(), found.ok(), queue::unix_now_ms());
    if (!found) {
      state.last_error = found.error().to_string();
      log_.warn(kCat, "scan failed", {{"source", src.name()}, {"error", state.last_error}});
    } else if (!found->empty()) {
      auto s = pipe_->intake->admit(src, *found);
      pipe_->tasks->report({src.name(), std::string(src.kind()), state.last_scan_at_ms, queue::unix_now_ms(),
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
    for (const auto& src : pipe_->sources) stable = std::max(stable, src->stable_seconds());
    for (int round = 0; round < 4 && !pipe_->cancel.requested(); ++round) {
      std::size_t pending = 0;
      for (auto& src : pipe_->sources) {
        scan(*src);
        pending += src->pending();
      }
      if (pending == 0) break;  // everything found so far is collected
      if (pipe_->cancel.wait_for(std::chrono::milliseconds(stable * 1000 + 50))) break;
    }
  }

  // Scans each source when it is due until a stop or reload request; returns which one.
  RunControl::Wake collect_forever() {
    std::map<std::string, std::int64_t> next_at;
    for (;;) {
      const std::int64_t now = sources::steady_now_ms();
      std::int64_t wake = now + 60'000;
      for (std::size_t i = 0; i < pipe_->sources.size() && !control_.stop_requested(); ++i) {
        auto& src = *pipe_->sources[i];
        auto& at = next_at[src.name()];
        if (at <= now) {
          scan(src);
          at = sources::steady_now_ms() + src.poll_seconds() * 1000;
        }
        wake = std::min(wake, at);
      }
      auto w = control_.wait_for(std::chrono::milliseconds(std::max<std::int64_t>(1, wake - sources::steady_now_ms())));
      if (w != RunControl::Wake::timeout) return w;
    }
  }

  // The heartbeat's own client: short timeouts, so a beat never holds up a stop for long.
  report::HeartbeatOptions heartbeat_options(const AgentConfig& cfg, const upload::UploadConfig& ucfg) {
    report::HeartbeatOptions h;
    h.client = ucfg.client;
    h.client.connect_timeout_seconds = std::min<long>(h.client.connect_timeout_seconds, 5);
    h.client.timeout_seconds = std::min<long>(h.client.timeout_seconds, 15);
    h.interval_s = cfg.report.heartbeat_seconds;
    h.version = LIGHTBOX_VERSION;
    h.config_path = config_path_;
    h.queue_db = cfg.queue_db();
    h.spool_dir = spool_.spool_dir();
    h.uploaded_totals = [this] { return metrics_.delivered_totals(); };  // the whole run, across reloads
    h.disk_full = [this] { return disk_full_.load(); };
    return h;
  }

  void delivered(const Pipeline& p, const queue::Item& claimed) {
    queue::Item it = claimed;
    if (it.source.empty()) {
      // A recovered orphan may have been adopted by a source while it was uploading.
      if (auto fresh = queue_->find(it.sha256); fresh.ok() && *fresh) it = **fresh;
    }
    auto found = p.by_name.find(it.source);
    if (found == p.by_name.end()) return;  // a recovered spool orphan, or a source a reload removed
    if (auto s = found->second->after_upload(it.rel_path, it.size); !s)
      log_.warn(kCat, "after_upload", {{"source", it.source}, {"path", it.rel_path}, {"error", s.error().to_string()}});
  }

  AgentConfig cfg_;  // the config in effect; replaced by a reload (main thread only)
  log::Logger& log_;
  std::string config_path_;
  RunControl& control_;
  int lock_fd_ = -1;
  queue::Spool spool_;
  metrics::AgentMetrics metrics_;
  std::unique_ptr<queue::SqliteQueue> queue_;
  std::unique_ptr<sources::SeenStore> seen_;
  std::unique_ptr<HealthFile> health_;
  std::unique_ptr<Pipeline> pipe_;
  std::unique_ptr<metrics::Server> metrics_server_;  // after the queue: stopped before anything it reads
  queue::SelfCheckReport check_;
  std::atomic<bool> disk_full_{false};  // read by the heartbeat thread
  std::int64_t free_mb_ = -1;
  std::int64_t retired_uploaded_ = 0, retired_failed_ = 0;  // totals of finished pipelines
  queue::IntakeStats totals_;
};

int run_impl(const std::string& config_path, bool once, RunControl& control, bool posix_signals) {
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
    auto renewal = once ? nullptr : make_renewal(cfg, log);  // certificate renewal, hourly check
    Runner runner(std::move(cfg), log, config_path, control);
    if (auto s = runner.open(); !s) {
      log.error(kCat, "cannot start", {{"error", s.error().to_string()}});
      std::cerr << "lightbox-agent: " << s.error().to_string() << "\n";
      return 1;
    }
    if (renewal) renewal->start();
    std::optional<StopSignals> signals;  // destroyed before the runner and the control
    if (posix_signals) signals.emplace(control);
    return runner.run(once);
  } catch (const std::exception& e) {
    log.error(kCat, "fatal", {{"error", e.what()}});
    std::cerr << "lightbox-agent: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int run_command(const std::string& config_path, bool once) {
#ifdef _WIN32
  // Started by the SCM: the service host runs us (run_with_control) and answers its controls.
  if (!once) {
    if (int rc = run_as_windows_service(config_path); rc != kNotAService) return rc;
  }
#endif
  block_stop_signals();
  RunControl control;
  return run_impl(config_path, once, control, true);
}

int run_with_control(const std::string& config_path, bool once, RunControl& control) {
  return run_impl(config_path, once, control, false);
}

}  // namespace lightbox::agent::app
