// `status` and `requeue`: read and adjust the queue from outside a running agent.
#include <iostream>

#include "agent/app/commands.hpp"
#include "agent/app/config.hpp"
#include "agent/queue/spool.hpp"
#include "agent/queue/sqlite_queue.hpp"
#include "agent/report/status.hpp"

namespace lightbox::agent::app {

int status_command(const std::string& config_path, bool json) {
  config::Problems problems;
  AgentConfig cfg = load_config(config_path, problems);
  if (!problems.empty()) {
    std::cerr << problems.to_string();
    return 1;
  }
  auto snap = report::read_snapshot(cfg.queue_db(), queue::unix_now_ms());
  if (!snap) {
    std::cerr << "lightbox-agent: cannot read " << cfg.queue_db() << ": " << snap.error().to_string() << "\n";
    return 1;
  }
  if (json)
    std::cout << report::to_json(*snap).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  else
    std::cout << report::to_text(*snap);
  return 0;
}

int requeue_command(const std::string& config_path, bool all_failed, std::optional<std::int64_t> id) {
  config::Problems problems;
  AgentConfig cfg = load_config(config_path, problems);
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
    auto failed = (*q)->list(queue::State::failed, 1'000'000);
    if (!failed) {
      std::cerr << "lightbox-agent: " << failed.error().to_string() << "\n";
      return 1;
    }
    for (const auto& it : *failed) ids.push_back(it.id);
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
