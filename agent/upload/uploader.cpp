#include "agent/upload/uploader.hpp"

#include <algorithm>
#include <chrono>

#include "agent/upload/records_decision.hpp"
#include "agent/verify/verifier.hpp"
#include "common/wire/records.hpp"

namespace lightbox::agent::upload {
namespace {

constexpr std::string_view kCat = "agent.upload";

queue::Settlement retry_later(const queue::Item& item, const UploadConfig& cfg, std::int64_t now, double u01,
                              std::optional<std::int64_t> retry_after_s, const Error& e) {
  queue::Settlement s;
  s.to = queue::State::verified;
  s.count_attempt = true;
  std::int64_t delay = queue::backoff_ms(item.attempts, cfg.retry_initial_ms, cfg.retry_max_ms, u01);
  if (retry_after_s) delay = std::max(delay, std::min(*retry_after_s * 1000, cfg.retry_max_ms));
  s.next_attempt_at = now + delay;
  s.error_code = std::string(errc_name(e.code));
  s.error = e.message;
  return s;
}

queue::Settlement failed(const Error& e) {
  queue::Settlement s;
  s.to = queue::State::failed;
  s.error_code = std::string(errc_name(e.code));
  s.error = e.message.empty() ? e.to_string() : e.message;
  return s;
}

// The hub's JSON error body, or a code derived from the status when the body is not JSON.
Error hub_error(const http::Response& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  Errc fallback = errc_from_http_status(static_cast<int>(r.status));
  if (j.is_object() && j.contains("error")) {
    Error e = Error::from_json(j);
    // A code this agent does not know (a newer hub's, or "revoked") is read by its HTTP status.
    if (e.code == Errc::internal && j["error"] != "internal") e.code = fallback;
    if (e.message.empty()) e.message = "hub answered " + std::to_string(r.status);
    return e;
  }
  return fail(fallback, "hub answered HTTP " + std::to_string(r.status));
}

std::string content_type(const queue::Item& item, const std::string& path) {
  if (item.kind == "dicom") return "application/dicom";
  switch (verify::sniff(path)) {
    case verify::Magic::pdf: return "application/pdf";
    case verify::Magic::jpeg: return "image/jpeg";
    case verify::Magic::none: break;
  }
  return "application/octet-stream";
}

}  // namespace

Decision decide(const queue::Item& item, const Result<http::Response>& r, const UploadConfig& cfg,
                std::int64_t now, double u01) {
  Decision d;
  if (!r.ok()) {
    const Error& e = r.error();
    if (e.code == Errc::cancelled) {
      // Stopped by us, not the hub's fault: no attempt counted, due again at once.
      d.settlement.to = queue::State::verified;
      d.settlement.next_attempt_at = now;
      d.settlement.error_code = "cancelled";
      d.settlement.error = "upload interrupted by shutdown";
    } else if (e.code == Errc::io_error) {
      d.settlement = failed(e);  // the spool copy is unreadable or gone: retrying cannot help
    } else {
      d.settlement = retry_later(item, cfg, now, u01, std::nullopt, e);
    }
    return d;
  }
  const http::Response& resp = r.value();
  const long st = resp.status;
  if ((st == 200 || st == 201) && item.kind == "records") return decide_records(item, resp, cfg, now, u01);
  if (st == 200 || st == 201) {
    auto j = nlohmann::json::parse(resp.body, nullptr, false);
    auto receipt = wire::Receipt::from_json(j);
    if (!receipt) {
      d.settlement = retry_later(item, cfg, now, u01, std::nullopt,
                                 fail(Errc::upstream, "hub answered " + std::to_string(st) +
                                                          " without a readable receipt: " + receipt.error().message));
      return d;
    }
    if (receipt->sha256 != item.sha256) {
      d.settlement = failed(fail(Errc::hash_mismatch, "hub receipt names " + receipt->sha256 + ", not " + item.sha256));
      return d;
    }
    switch (receipt->outcome) {
      case wire::StoreOutcome::Stored:
      case wire::StoreOutcome::AlreadyStored:
        d.settlement.to = queue::State::done;
        d.delivered = true;
        d.already_stored = receipt->outcome == wire::StoreOutcome::AlreadyStored;
        return d;
      case wire::StoreOutcome::StorageFull:
        d.settlement = retry_later(item, cfg, now, u01, resp.retry_after_seconds,
                                   fail(Errc::storage_full, "hub storage is full"));
        return d;
      case wire::StoreOutcome::Rejected:
        d.settlement = failed(fail(Errc::rejected, "hub rejected the object"));
        return d;
    }
  }
  if (st == 408 || st == 429 || st == 507 || st >= 500) {
    d.settlement = retry_later(item, cfg, now, u01, resp.retry_after_seconds, hub_error(resp));
    return d;
  }
  if (st == 401 || st == 403) {
    // A refused credential (wrong, revoked or expired token or certificate, another agent's id)
    // is about this agent, not this item: the item waits, the uploader pauses, and uploads go on
    // by themselves once an operator fixes the credential (new token, enroll again).
    d.settlement = retry_later(item, cfg, now, u01, resp.retry_after_seconds, hub_error(resp));
    d.credential_refused = true;
    return d;
  }
  if (st >= 400) {
    d.settlement = failed(hub_error(resp));  // the hub said no; a person has to look
    return d;
  }
  d.settlement = retry_later(item, cfg, now, u01, resp.retry_after_seconds,
                             fail(Errc::upstream, "unexpected HTTP status " + std::to_string(st)));
  return d;
}

Uploader::Uploader(const UploadConfig& cfg, queue::Queue& queue, const queue::Spool& spool, Cancel& cancel,
                   log::Logger& log, Delivered on_delivered)
    : cfg_(cfg), queue_(queue), spool_(spool), cancel_(cancel), log_(log), on_delivered_(std::move(on_delivered)) {
  cancel_.subscribe([this] { notify(); });
}

Uploader::~Uploader() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    ++generation_;
  }
  cv_.notify_all();
  join();
}

void Uploader::start() {
  for (int i = 0; i < cfg_.concurrency; ++i) threads_.emplace_back([this, i] { work(i); });
}

void Uploader::notify() {
  {
    std::lock_guard lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

void Uploader::finish_when_idle() {
  {
    std::lock_guard lock(mu_);
    drain_ = true;
    ++generation_;
  }
  cv_.notify_all();
}

void Uploader::join() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void Uploader::work(int index) {
  http::ClientOptions opts = cfg_.client;
  opts.cancelled = [this] { return cancel_.expired(); };
  http::Client client(std::move(opts));
  std::mt19937_64 rng{std::random_device{}() + static_cast<std::uint64_t>(index)};
  std::int64_t streak = 0;  // consecutive transport-level failures of this worker
  bool cautious = false;    // the last upload was not delivered: ask the hub before sending
  for (;;) {
    std::uint64_t gen;
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
      gen = generation_;
    }
    if (cancel_.requested()) break;
    const std::int64_t now = queue::unix_now_ms();
    auto claimed = queue_.claim(now);
    if (claimed.ok() && *claimed) {
      {
        std::lock_guard lock(mu_);
        ++in_flight_;
      }
      const Outcome out = upload_one(client, **claimed, cautious, rng);
      cautious = !out.delivered;
      const bool transient = out.unreachable || out.refused;
      if (out.refused) {
        std::lock_guard lock(mu_);
        if (drain_) {
          // --once: waiting cannot help within this run; stop, leaving the items queued.
          stop_ = true;
          ++generation_;
        }
      }
      {
        std::lock_guard lock(mu_);
        --in_flight_;
        ++generation_;
      }
      cv_.notify_all();
      // While the hub is unreachable, each worker pauses instead of trying every queued item
      // in turn; the pause grows like an item's backoff and ends early only on stop.
      streak = transient ? streak + 1 : 0;
      if (streak > 0) {
        std::uniform_real_distribution<double> u01(0.5, 1.0);
        auto pause = std::chrono::milliseconds(
            queue::backoff_ms(streak - 1, cfg_.retry_initial_ms, cfg_.retry_max_ms, u01(rng)));
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, pause, [&] { return stop_ || cancel_.requested(); });
      }
      continue;
    }
    std::chrono::milliseconds wait(60'000);
    if (!claimed.ok()) {
      log_.error(kCat, "cannot claim", {{"error", claimed.error().to_string()}});
      wait = std::chrono::milliseconds(1000);
    } else {
      auto due = queue_.next_due();
      if (!due.ok()) {
        wait = std::chrono::milliseconds(1000);
      } else if (*due) {
        wait = std::chrono::milliseconds(std::max<std::int64_t>(1, **due - queue::unix_now_ms()));
      } else {
        std::lock_guard lock(mu_);
        if (drain_ && in_flight_ == 0) {
          // --once: nothing verified, nothing in flight: the queue has nothing left to do.
          stop_ = true;
          ++generation_;
          cv_.notify_all();
          break;
        }
      }
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, wait, [&] { return stop_ || generation_ != gen; });
  }
}

Uploader::Outcome Uploader::upload_one(http::Client& client, const queue::Item& item, bool cautious,
                                      std::mt19937_64& rng) {
  auto slash = item.rel_path.rfind('/');
  std::string filename = slash == std::string::npos ? item.rel_path : item.rel_path.substr(slash + 1);
  std::vector<std::pair<std::string, std::string>> headers{
      {std::string(wire::kHeaderKind), item.kind},
      {std::string(wire::kHeaderSource), item.source},
      {std::string(wire::kHeaderFilename), filename},
      {"Content-Type", content_type(item, spool_.path(item.sha256))}};
  // A hub that refuses early (401, 413...) closes the connection, which a sender streaming the
  // body sees as a broken pipe. Retries therefore ask first, so the refusal is read cleanly.
  const bool ask_first = item.attempts > 0 || cautious;
  std::function<bool(std::size_t)> throttle;
  if (cfg_.limiter)
    throttle = [this](std::size_t n) { return cfg_.limiter->acquire(n, [this] { return cancel_.expired(); }); };
  // A records batch (from a view source) is POSTed; its hash travels in X-Lightbox-Batch.
  const auto started = std::chrono::steady_clock::now();
  auto r = item.kind == "records"
               ? client.post_file(std::string(wire::kRecordsPath), spool_.path(item.sha256), records_headers(item), throttle)
               : client.put_file(std::string(wire::kObjectsPath) + item.sha256, spool_.path(item.sha256), headers,
                                 ask_first, throttle);
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  const std::int64_t now = queue::unix_now_ms();
  Decision d = decide(item, r, cfg_, now, u01(rng));
  const bool unreachable = !r.ok() && r.error().code != Errc::cancelled && r.error().code != Errc::io_error;
  if (auto s = queue_.settle(item.id, queue::State::uploading, d.settlement, now); !s) {
    log_.error(kCat, "cannot settle item", {{"id", item.id}, {"error", s.error().to_string()}});
    return {unreachable, false, false};
  }
  if (cfg_.on_attempt)
    cfg_.on_attempt(item, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                    d.delivered, d.already_stored, d.settlement.error_code);
  if (d.delivered) {
    if (auto s = spool_.remove(item.sha256); !s) log_.warn(kCat, "spool cleanup", {{"error", s.error().to_string()}});
    (item.kind == "records" ? stats_.records : d.already_stored ? stats_.already_stored : stats_.uploaded)++;
    if (item.kind != "records") stats_.bytes += static_cast<std::int64_t>(item.size);
    log_.debug(kCat, "delivered", {{"id", item.id}, {"sha256", item.sha256}, {"already_stored", d.already_stored}});
    if (on_delivered_) on_delivered_(item);
  } else if (d.settlement.to == queue::State::failed) {
    ++stats_.failed;
    log_.error(kCat, "upload failed", {{"id", item.id}, {"path", item.rel_path}, {"error", d.settlement.error_code},
                                       {"message", d.settlement.error}});
  } else if (d.credential_refused) {
    ++stats_.refused;
    log_.error(kCat, "the hub refused this agent's credential: uploads pause until it is fixed (a new token, "
                     "or enroll again); nothing is dropped",
               {{"id", item.id}, {"error", d.settlement.error_code}, {"message", d.settlement.error},
                {"retry_in_ms", d.settlement.next_attempt_at - now}});
  } else if (d.settlement.error_code != "cancelled") {
    ++stats_.retried;
    log_.warn(kCat, "upload will be retried", {{"id", item.id}, {"path", item.rel_path},
                                                {"error", d.settlement.error_code}, {"message", d.settlement.error},
                                                {"retry_in_ms", d.settlement.next_attempt_at - now}});
  }
  return {unreachable, d.delivered, d.credential_refused};
}

}  // namespace lightbox::agent::upload
