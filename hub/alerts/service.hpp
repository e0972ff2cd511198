#pragma once
// The hub's alerting, as one object the composition root owns: every `evaluate_seconds` an
// evaluator thread reads the fleet and the index, runs the rules and steps the engine; the
// dispatcher's workers deliver the outbox. The API reads and acks alerts through store().
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/error/result.hpp"
#include "common/log/logger.hpp"
#include "hub/alerts/config.hpp"
#include "hub/alerts/delivery.hpp"
#include "hub/alerts/engine.hpp"
#include "hub/alerts/store.hpp"
#include "hub/fleet/repository.hpp"

namespace lightbox::hub::alerts {

/// Alerting for one hub. Owns its store (own connection to index.db), engine and workers.
class AlertService {
 public:
  /// Opens the alert tables in `index_path`; `cfg`, `fleet` and `log` must outlive the service.
  static Result<std::unique_ptr<AlertService>> open(const AlertsConfig& cfg, const std::string& index_path,
                                                    fleet::FleetRepository& fleet, log::Logger& log);
  ~AlertService() { stop(); }

  /// Starts the evaluator and one delivery worker per channel (HTTP sinks unless `factory`).
  void start(SinkFactory factory = {});
  /// Asks every thread to stop without waiting (safe from any thread, e.g. when the server
  /// begins to drain: agents cannot beat then, so nothing may be judged offline). Idempotent.
  void request_stop();
  /// Stops and joins every thread. Idempotent.
  void stop();
  /// One evaluation at `now_ms` (the evaluator thread calls this; tests call it directly).
  Result<std::vector<Change>> evaluate_once(std::int64_t now_ms);

  /// The alert tables (API reads and acks).
  AlertStore& store() { return *store_; }
  /// The delivery workers (tests drive deliver_due directly).
  Dispatcher& dispatcher() { return dispatcher_; }
  /// The /metrics lines of alerting (deliveries by channel and result, firing alerts).
  std::string metrics_text();
  const AlertsConfig& config() const { return cfg_; }

 private:
  AlertService(const AlertsConfig& cfg, std::unique_ptr<AlertStore> store, fleet::FleetRepository& fleet,
               log::Logger& log, std::int64_t started_ms);
  void run_evaluator();
  /// Fills `uploads` for the absence rule (past days cached per local day, today probed).
  Status absence_history(std::int64_t now_ms, std::map<std::string, DailyCounts>& uploads);

  const AlertsConfig& cfg_;
  std::unique_ptr<AlertStore> store_;
  fleet::FleetRepository& fleet_;
  log::Logger& log_;
  std::int64_t started_ms_;
  std::int64_t pruned_ms_ = 0;
  // Absence history: which institutions sent on each past local day, recomputed once a day.
  std::int64_t history_day_ = -1;
  std::map<std::string, DailyCounts> history_;
  Engine engine_;
  DeliveryCounters counters_;
  Dispatcher dispatcher_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread evaluator_;
};

}  // namespace lightbox::hub::alerts
