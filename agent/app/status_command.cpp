// `status` and `requeue`: read and adjust the queue from outside a running agent.
#include <iostream>

#include "agent/app/commands.hpp"
#include "agent/app/config.hpp"
#include "agent/app/health_file.hpp"
#include "agent/queue/spool.hpp"
#include "agent/queue/sqlite_queue.hpp"
#include "agent/report/status.hpp"

namespace lightbox::agent::app {

int status_command(const std::string& config_path, bool json) {
  config::Problems problems;
  AgentConfig cfg = load_config(config_path, problems, ConfigUse::local);
  if (!problems.empty()) {
    std::cerr << problems.to_string();
    return 1;
  }
  auto snap = report::read_snapshot(cfg.queue_db(), queue::unix_now_ms());
  if (!snap) {
    std::cerr << "lightbox-agent: cannot read " << cfg.queue_db() << ": " << snap.error().to_string() << "\n";
    return 1;
  }
  // What only the running agent knows (spool disk full, last queue self-check).
  auto health = HealthFile::read(cfg.data_dir + "/health.json");
  const bool disk_full = health.value("disk_full", false);
  if (json) {
    auto j = report::to_json(*snap);
    j["disk_full"] = disk_full;
    j["spool_free_mb"] = health.value("spool_free_mb", std::int64_t{-1});
    j["self_check"] = health.contains("self_check") ? health["self_check"] : nlohmann::json(nullptr);
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cout << report::to_text(*snap);
    if (disk_full)
      std::cout << "DISK FULL: spool has " << health.value("spool_free_mb", std::int64_t{-1})
                << " MB free (< agent.min_free_mb); collection paused, uploads continue\n";
    if (health.contains("self_check") && health["self_check"].value("damaged", false))
      std::cout << "queue.db was damaged and rebuilt from the spool ("
                << health["self_check"].value("moved_to", "") << "): "
                << [&] {
                     auto n = health["self_check"].value("may_need_recollection", std::int64_t{-1});
                     return n >= 0 ? std::to_string(n) : std::string("an unknown number of");
                   }()
                << " items may need re-collection\n";
  }
  return 0;
}

int requeue_command(const std::string& config_path, bool all_failed, std::optional<std::int64_t> id) {
  config::Problems problems;
  AgentConfig cfg = load_config(config_path, problems, ConfigUse::local);
  if (!problems.empty()) {
    std::cerr << problems.to_string();
    return 1;
  }
  if (!all_failed && !id) {
    std::cerr << "lightbox-agent: requeue needs --all-failed or --id N\n";
    return 1;
  }
  // No crash recovery here: a running agent may own items in `uploading` right now.
  auto q = queue::SqliteQueue::open(cfg.queue_db(), nullptr, /*recover=*/false);
  if (!q) {
    std::cerr << "lightbox-agent: " << q.error().to_string() << "\n";
    return 1;
  }
  queue::Spool spool(cfg.data_dir);
  std::vector<std::int64_t> ids;
  if (all_failed) {
    // Failed items go back to `verified`; quarantined ones (bytes back into the spool) to
    // `collected`, verified again by the next run.
    auto failed = (*q)->list(queue::State::failed, 1'000'000);
    auto quarantined = (*q)->list(queue::State::quarantined, 1'000'000);
    if (!failed || !quarantined) {
      std::cerr << "lightbox-agent: " << (failed ? quarantined.error() : failed.error()).to_string() << "\n";
      return 1;
    }
    for (const auto& it : *failed) ids.push_back(it.id);
    for (const auto& it : *quarantined) {
      if (auto s = spool.restore(it.sha256); !s) {
        std::cerr << "lightbox-agent: " << s.error().to_string() << "\n";
        continue;
      }
      ids.push_back(it.id);
    }
  }
  if (id) {
    auto items = (*q)->list(queue::State::quarantined, 1'000'000);
    if (items.ok()) {
      for (const auto& it : *items)
        if (it.id == *id) {
          // Its bytes go back to the spool; the next run verifies them again.
          if (auto s = spool.restore(it.sha256); !s) {
            std::cerr << "lightbox-agent: " << s.error().to_string() << "\n";
            return 1;
          }
        }
    }
    ids.push_back(*id);
  }
  auto n = (*q)->requeue(ids, queue::unix_now_ms());
  if (!n) {
    std::cerr << "lightbox-agent: " << n.error().to_string() << "\n";
    return 1;
  }
  std::cout << "requeued " << *n << " item(s)\n";
  if (id && *n == 0) {
    std::cerr << "lightbox-agent: item " << *id << " is neither failed nor quarantined\n";
    return 1;
  }
  return 0;
}

}  // namespace lightbox::agent::app
