#pragma once
// Stage 4: uploader workers. Each thread owns one http::Client (one connection, reused), claims
// a due item, PUTs the spool file to the hub and settles the item by the hub's answer.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "agent/queue/queue.hpp"
#include "agent/queue/spool.hpp"
#include "agent/upload/cancel.hpp"
#include "agent/upload/rate_limit.hpp"
#include "common/http/client.hpp"
#include "common/log/logger.hpp"
#include "common/wire/protocol.hpp"

namespace lightbox::agent::upload {

/// Typed `upload` + `hub` settings the workers need.
struct UploadConfig {
  std::int64_t concurrency = 4;
  std::int64_t retry_initial_ms = 1000;
  std::int64_t retry_max_ms = 300'000;
  http::ClientOptions client;  // base_url, CA, token, timeouts, X-Lightbox-Agent header
  RateLimiter* limiter = nullptr;  // shared bandwidth cap across workers; null = unlimited
  /// Optional, called by a worker after each attempt is settled (the agent's /metrics): the item,
  /// the transfer's wall time, whether the hub has it (and already had it), and the error code.
  std::function<void(const queue::Item&, double seconds, bool delivered, bool already_stored,
                     const std::string& error_code)>
      on_attempt;
};

/// Totals of one run, for the --once summary.
struct UploadStats {
  std::atomic<std::int64_t> uploaded{0};
  std::atomic<std::int64_t> already_stored{0};
  std::atomic<std::int64_t> failed{0};
  std::atomic<std::int64_t> refused{0};  // answers 401/403: the hub refused this agent's credential
  std::atomic<std::int64_t> retried{0};
  std::atomic<std::int64_t> bytes{0};
  std::atomic<std::int64_t> records{0};  // record batches delivered (not in uploaded/already_stored)
};

/// How one hub answer settles an item (pure; unit-tested).
struct Decision {
  queue::Settlement settlement;
  bool delivered = false;              // receipt accepted: delete spool copy, apply after_upload
  bool already_stored = false;
  bool credential_refused = false;     // 401/403: the hub refuses who we are, not this item
};
/// Maps a transport result or HTTP answer to a settlement. `u01` is the jitter draw.
Decision decide(const queue::Item& item, const Result<http::Response>& r, const UploadConfig& cfg,
                std::int64_t now, double u01);

/// The worker pool.
class Uploader {
 public:
  using Delivered = std::function<void(const queue::Item&)>;

  Uploader(const UploadConfig& cfg, queue::Queue& queue, const queue::Spool& spool, Cancel& cancel,
           log::Logger& log, Delivered on_delivered);
  ~Uploader();
  Uploader(const Uploader&) = delete;
  Uploader& operator=(const Uploader&) = delete;

  /// Starts `concurrency` threads.
  void start();
  /// New items may be due: wake idle workers.
  void notify();
  /// --once: workers exit when nothing is verified or uploading any more.
  void finish_when_idle();
  /// Waits for every worker to exit (after finish_when_idle or a cancel).
  void join();
  const UploadStats& stats() const { return stats_; }

 private:
  void work(int index);
  struct Outcome {
    bool unreachable = false;  // no HTTP answer at all
    bool delivered = false;
    bool refused = false;      // the hub refused our credential (401/403)
  };
  /// Uploads and settles one item. `cautious` sends "Expect: 100-continue".
  Outcome upload_one(http::Client& client, const queue::Item& item, bool cautious, std::mt19937_64& rng);

  const UploadConfig& cfg_;
  queue::Queue& queue_;
  const queue::Spool& spool_;
  Cancel& cancel_;
  log::Logger& log_;
  Delivered on_delivered_;
  UploadStats stats_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t generation_ = 0;  // bumped by notify(): no lost wake-ups
  int in_flight_ = 0;
  bool drain_ = false;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace lightbox::agent::upload
