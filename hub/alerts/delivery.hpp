#pragma once
// Delivery of the outbox: one worker thread per channel (a slow SMS gateway never delays the
// webhook), each with its own sink. A failure is retried with exponential backoff and logged;
// nothing here ever blocks request handling or the evaluator.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/error/result.hpp"
#include "common/log/logger.hpp"
#include "hub/alerts/channels.hpp"
#include "hub/alerts/config.hpp"
#include "hub/alerts/store.hpp"

namespace lightbox::hub::alerts {

/// Where rendered notifications go (the AlertSink seam). The hub's sends HTTP; tests record.
class AlertSink {
 public:
  virtual ~AlertSink() = default;
  /// Sends one request; ok when the receiver accepted it.
  virtual Status send(const ChannelConfig& ch, const OutboundRequest& req) = 0;
};

/// Builds the sink of one channel's worker (called on that worker's thread's behalf, once).
using SinkFactory =
    std::function<std::unique_ptr<AlertSink>(const ChannelConfig&, const std::atomic<bool>& stop)>;

/// The HTTP sink (libcurl through common/http): 2xx is accepted; for the WeCom and DingTalk
/// robots also a JSON "errcode" of 0. Needs http::GlobalInit in the composition root.
std::unique_ptr<AlertSink> make_http_sink(const ChannelConfig& ch, const DeliveryConfig& d,
                                          const std::atomic<bool>& stop);

/// Delivery outcomes per channel for /metrics (lightbox_hub_alert_deliveries_total).
class DeliveryCounters {
 public:
  explicit DeliveryCounters(const std::vector<ChannelConfig>& channels);
  /// Counts one attempt of `channel` with `result` ("sent" | "retry" | "failed").
  void count(const std::string& channel, std::string_view result);
  /// Attempts of `channel` with `result`.
  std::int64_t get(const std::string& channel, std::string_view result) const;
  /// Prometheus text: HELP, TYPE and one sample per channel and result.
  std::string render() const;

 private:
  struct Row {
    std::string channel;
    std::atomic<std::int64_t> sent{0}, retry{0}, failed{0};
  };
  std::vector<std::unique_ptr<Row>> rows_;
};

/// The outbox workers.
class Dispatcher {
 public:
  Dispatcher(const AlertsConfig& cfg, AlertStore& store, DeliveryCounters& counters, log::Logger& log)
      : cfg_(cfg), store_(store), counters_(counters), log_(log) {}
  ~Dispatcher() { stop(); }

  /// Sends every item of `ch` due at `now_ms` through `sink`; returns how many were attempted.
  Result<int> deliver_due(const ChannelConfig& ch, AlertSink& sink, std::int64_t now_ms);
  /// Starts one worker per channel.
  void start(SinkFactory factory);
  /// Asks the workers to look at the outbox now (new items were committed).
  void wake();
  /// Asks the workers to stop without waiting for them.
  void request_stop();
  /// Stops and joins the workers (an in-flight request is cancelled).
  void stop();

  /// Delay before attempt `attempts + 1` of outbox item `id` (backoff with a little jitter).
  std::int64_t backoff_ms(std::int64_t id, std::int64_t attempts) const;

 private:
  void run(const ChannelConfig& ch, AlertSink& sink);

  const AlertsConfig& cfg_;
  AlertStore& store_;
  DeliveryCounters& counters_;
  log::Logger& log_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t wakes_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace lightbox::hub::alerts
