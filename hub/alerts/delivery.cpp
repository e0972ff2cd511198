#include "hub/alerts/delivery.hpp"

#include <algorithm>
#include <chrono>

#include "common/clock/clock.hpp"

#include "common/http/client.hpp"

namespace lightbox::hub::alerts {
namespace {

constexpr std::string_view kCat = "hub.alerts";

class HttpSink final : public AlertSink {
 public:
  HttpSink(const ChannelConfig& ch, const DeliveryConfig& d, const std::atomic<bool>& stop)
      : client_([&] {
          http::ClientOptions o;
          o.ca_file = ch.ca_file;
          o.connect_timeout_seconds = std::min<long>(10, static_cast<long>(d.timeout_seconds));
          o.timeout_seconds = static_cast<long>(d.timeout_seconds);
          o.cancelled = [&stop] { return stop.load(); };
          return o;
        }()) {}

  Status send(const ChannelConfig& ch, const OutboundRequest& req) override {
    auto r = client_.send(req.method, req.url, req.body, req.headers, false);
    if (!r) return std::move(r).error();
    if (r->status < 200 || r->status >= 300)
      return fail(errc_from_http_status(static_cast<int>(r->status)),
                  "HTTP " + std::to_string(r->status) + ": " + r->body.substr(0, 200));
    if (ch.type == "wecom" || ch.type == "dingtalk") {
      // The robots answer 200 with {"errcode": N, "errmsg": "..."}; only 0 is success.
      auto j = nlohmann::json::parse(r->body, nullptr, false);
      if (!j.is_object() || !j.contains("errcode") || !j["errcode"].is_number_integer())
        return fail(Errc::upstream, "robot answer without errcode: " + r->body.substr(0, 200));
      if (j["errcode"].get<std::int64_t>() != 0)
        return fail(Errc::upstream, "robot errcode " + j["errcode"].dump() + ": " + j.value("errmsg", ""));
    }
    return {};
  }

 private:
  http::Client client_;
};

}  // namespace

std::unique_ptr<AlertSink> make_http_sink(const ChannelConfig& ch, const DeliveryConfig& d,
                                          const std::atomic<bool>& stop) {
  return std::make_unique<HttpSink>(ch, d, stop);
}

DeliveryCounters::DeliveryCounters(const std::vector<ChannelConfig>& channels) {
  for (const auto& c : channels) {
    rows_.push_back(std::make_unique<Row>());
    rows_.back()->channel = c.name;
  }
}

void DeliveryCounters::count(const std::string& channel, std::string_view result) {
  for (auto& r : rows_) {
    if (r->channel != channel) continue;
    auto& c = result == "sent" ? r->sent : result == "retry" ? r->retry : r->failed;
    c.fetch_add(1, std::memory_order_relaxed);
  }
}

std::int64_t DeliveryCounters::get(const std::string& channel, std::string_view result) const {
  for (const auto& r : rows_)
    if (r->channel == channel)
      return (result == "sent" ? r->sent : result == "retry" ? r->retry : r->failed).load();
  return 0;
}

std::string DeliveryCounters::render() const {
  std::string out =
      "# HELP lightbox_hub_alert_deliveries_total Alert notification delivery attempts by channel and "
      "result.\n"
      "# TYPE lightbox_hub_alert_deliveries_total counter\n";
  for (const auto& r : rows_)
    for (std::string_view res : {"sent", "retry", "failed"})
      out += "lightbox_hub_alert_deliveries_total{channel=\"" + r->channel + "\",result=\"" +
             std::string(res) + "\"} " + std::to_string(get(r->channel, res)) + "\n";
  return out;
}

std::int64_t Dispatcher::backoff_ms(std::int64_t id, std::int64_t attempts) const {
  const auto& d = cfg_.delivery;
  std::int64_t delay = d.retry_initial_seconds * 1000;
  for (std::int64_t i = 0; i < attempts && delay < d.retry_max_seconds * 1000; ++i) delay *= 2;
  delay = std::min(delay, d.retry_max_seconds * 1000);
  // +-10 % spread, derived from the item so many failed items do not retry in lockstep.
  const std::int64_t spread = delay / 10;
  return delay + (spread > 0 ? (id * 7919) % (2 * spread + 1) - spread : 0);
}

Result<int> Dispatcher::deliver_due(const ChannelConfig& ch, AlertSink& sink, std::int64_t now_ms) {
  auto items = store_.due(ch.name, now_ms, 50);
  if (!items) return std::move(items).error();
  int n = 0;
  for (const auto& it : *items) {
    if (stop_.load()) break;
    ++n;
    Notice notice{it.event, it.alert, it.recipient, cfg_.hub_name};
    OutboundRequest req = render(ch, notice, clock::now_ms());
    Status s = sink.send(ch, req);
    nlohmann::json fields{{"channel", ch.name}, {"type", ch.type}, {"alert", it.alert_id},
                          {"event", it.event},  {"outbox", it.id}, {"attempt", it.attempts + 1}};
    if (s) {
      counters_.count(ch.name, "sent");
      log_.info(kCat, "alert notification delivered", fields);
      if (auto m = store_.mark_sent(it.id, now_ms); !m) return std::move(m).error();
      continue;
    }
    fields["error"] = s.error().message;
    if (it.attempts + 1 >= cfg_.delivery.max_attempts) {
      counters_.count(ch.name, "failed");
      log_.error(kCat, "alert notification given up", fields);
      if (auto m = store_.mark_failed(it.id, now_ms, s.error().message); !m) return std::move(m).error();
      continue;
    }
    counters_.count(ch.name, "retry");
    const std::int64_t delay = backoff_ms(it.id, it.attempts);
    fields["retry_in_ms"] = delay;
    log_.warn(kCat, "alert notification failed, will retry", fields);
    if (auto m = store_.mark_retry(it.id, now_ms + delay, s.error().message); !m) return std::move(m).error();
  }
  return n;
}

void Dispatcher::start(SinkFactory factory) {
  for (const auto& ch : cfg_.channels) {
    threads_.emplace_back([this, &ch, factory] {
      try {
        auto sink = factory(ch, stop_);
        run(ch, *sink);
      } catch (const std::exception& e) {
        log_.error(kCat, "alert delivery worker stopped", {{"channel", ch.name}, {"what", e.what()}});
      }
    });
  }
}

void Dispatcher::run(const ChannelConfig& ch, AlertSink& sink) {
  std::uint64_t seen = 0;
  while (!stop_.load()) {
    std::int64_t wait_ms = 60000;
    try {
      auto n = deliver_due(ch, sink, clock::now_ms());
      if (!n) {
        log_.error(kCat, "alert outbox unreadable", {{"channel", ch.name}, {"error", n.error().message}});
        wait_ms = 5000;
      } else if (*n > 0) {
        wait_ms = 0;  // there may be more due
      } else if (auto next = store_.next_due(ch.name); next && *next) {
        wait_ms = std::clamp<std::int64_t>(**next - clock::now_ms(), 0, 60000);
      }
    } catch (const std::exception& e) {
      log_.error(kCat, "alert delivery failed", {{"channel", ch.name}, {"what", e.what()}});
      wait_ms = 5000;
    }
    std::unique_lock lock(mu_);
    if (wait_ms > 0)
      cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return stop_.load() || wakes_ != seen; });
    seen = wakes_;
  }
}

void Dispatcher::wake() {
  {
    std::lock_guard lock(mu_);
    ++wakes_;
  }
  cv_.notify_all();
}

void Dispatcher::request_stop() {
  {
    std::lock_guard lock(mu_);
    stop_.store(true);
  }
  cv_.notify_all();
}

void Dispatcher::stop() {
  request_stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace lightbox::hub::alerts
