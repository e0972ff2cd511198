#include "agent/upload/records_decision.hpp"

#include <algorithm>

#include "common/wire/records.hpp"

namespace lightbox::agent::upload {
namespace {

queue::Settlement retry(const queue::Item& item, const UploadConfig& cfg, std::int64_t now, double u01,
                        std::optional<std::int64_t> retry_after_s, Errc code, std::string message) {
  queue::Settlement s;
  s.to = queue::State::verified;
  s.count_attempt = true;
  std::int64_t delay = queue::backoff_ms(item.attempts, cfg.retry_initial_ms, cfg.retry_max_ms, u01);
  if (retry_after_s) delay = std::max(delay, std::min(*retry_after_s * 1000, cfg.retry_max_ms));
  s.next_attempt_at = now + delay;
  s.error_code = std::string(errc_name(code));
  s.error = std::move(message);
  return s;
}

queue::Settlement failed(Errc code, std::string message) {
  queue::Settlement s;
  s.to = queue::State::failed;
  s.error_code = std::string(errc_name(code));
  s.error = std::move(message);
  return s;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> records_headers(const queue::Item& item) {
  return {{std::string(wire::kHeaderBatch), item.sha256},
          {std::string(wire::kHeaderSource), item.source},
          {"Content-Type", "application/json"}};
}

Decision decide_records(const queue::Item& item, const http::Response& resp, const UploadConfig& cfg,
                        std::int64_t now, double u01) {
  Decision d;
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  auto answer = wire::BatchAnswer::from_json(j);
  if (!answer) {
    d.settlement = retry(item, cfg, now, u01, std::nullopt, Errc::upstream,
                         "hub answered " + std::to_string(resp.status) + " without a readable batch answer: " +
                             answer.error().message);
    return d;
  }
  if (answer->sha256 != item.sha256) {
    d.settlement = failed(Errc::hash_mismatch, "hub answer names batch " + answer->sha256 + ", not " + item.sha256);
    return d;
  }
  switch (answer->outcome) {
    case wire::StoreOutcome::StorageFull:
      d.settlement = retry(item, cfg, now, u01, resp.retry_after_seconds, Errc::storage_full, "hub storage is full");
      return d;
    case wire::StoreOutcome::Rejected:
      if (answer->stored + answer->already_stored == 0 && answer->rejected.empty()) {
        d.settlement = failed(Errc::rejected, "hub rejected the records batch");
        return d;
      }
      break;  // some records were kept: the rejections are reported like below
    case wire::StoreOutcome::Stored:
    case wire::StoreOutcome::AlreadyStored:
      break;
  }
  d.settlement.to = queue::State::done;
  d.delivered = true;
  d.already_stored = answer->stored == 0 && answer->rejected.empty();
  if (!answer->rejected.empty()) {
    // Kept on the done item for `status`: how many, and the first few reasons.
    std::string msg = std::to_string(answer->rejected.size()) + " record" +
                      (answer->rejected.size() > 1 ? "s" : "") + " rejected by the hub";
    for (std::size_t i = 0; i < answer->rejected.size() && i < 3; ++i) {
      const auto& r = answer->rejected[i];
      msg += (i ? "; " : ": ") + std::string("records[") + std::to_string(r.index) + "] " + r.kind + " " + r.key + ": " +
             r.message + (r.field.empty() ? "" : " (" + r.field + ")");
    }
    d.settlement.error_code = "records_rejected";
    d.settlement.error = msg;
  }
  return d;
}

}  // namespace lightbox::agent::upload
