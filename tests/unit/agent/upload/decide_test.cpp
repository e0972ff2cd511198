#include "agent/upload/uploader.hpp"

#include <doctest/doctest.h>

using namespace lightbox;
using namespace lightbox::agent;

namespace {

queue::Item item(std::int64_t attempts = 0) {
  queue::Item it;
  it.id = 7;
  it.sha256 = std::string(64, 'a');
  it.kind = "dicom";
  it.attempts = attempts;
  it.state = queue::State::uploading;
  return it;
}

upload::UploadConfig cfg() {
  upload::UploadConfig c;
  c.retry_initial_ms = 1000;
  c.retry_max_ms = 60'000;
  return c;
}

Result<http::Response> answer(long status, std::string body, std::optional<std::int64_t> retry_after = {}) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  r.retry_after_seconds = retry_after;
  return r;
}

std::string receipt(const std::string& sha, const char* outcome) {
  wire::Receipt r;
  r.sha256 = sha;
  r.outcome = *wire::parse_store_outcome(outcome);
  return r.to_json().dump();
}

}  // namespace

TEST_CASE("a matching receipt marks the item done") {
  auto d = upload::decide(item(), answer(201, receipt(std::string(64, 'a'), "Stored")), cfg(), 1000, 0.5);
  CHECK(d.delivered);
  CHECK_FALSE(d.already_stored);
  CHECK(d.settlement.to == queue::State::done);
  auto again = upload::decide(item(), answer(200, receipt(std::string(64, 'a'), "AlreadyStored")), cfg(), 1000, 0.5);
  CHECK(again.delivered);
  CHECK(again.already_stored);
}

TEST_CASE("a receipt for other bytes is never taken as delivery") {
  auto d = upload::decide(item(), answer(201, receipt(std::string(64, 'b'), "Stored")), cfg(), 1000, 0.5);
  CHECK_FALSE(d.delivered);
  CHECK(d.settlement.to == queue::State::failed);
  CHECK(d.settlement.error_code == "hash_mismatch");
  auto garbled = upload::decide(item(), answer(201, "not json"), cfg(), 1000, 0.5);
  CHECK_FALSE(garbled.delivered);
  CHECK(garbled.settlement.to == queue::State::verified);
}

TEST_CASE("4xx fails with the hub's JSON error and is not retried") {
  auto d = upload::decide(item(), answer(422, R"j({"error":"rejected","message":"missing (0020,000D)","field":null})j"),
                          cfg(), 1000, 0.5);
  CHECK(d.settlement.to == queue::State::failed);
  CHECK(d.settlement.error_code == "rejected");
  CHECK(d.settlement.error == "missing (0020,000D)");
  CHECK_FALSE(d.credential_refused);
}

TEST_CASE("a refused credential (401/403) keeps the item queued and flags the refusal") {
  auto auth = upload::decide(item(), answer(401, "plain text"), cfg(), 1000, 0.5);
  CHECK(auth.settlement.to == queue::State::verified);
  CHECK(auth.settlement.next_attempt_at > 1000);
  CHECK(auth.credential_refused);
  CHECK(auth.settlement.error_code == "unauthorized");
  // A code the agent does not know is read by its status; the hub's sentence is kept.
  auto revoked = upload::decide(
      item(), answer(403, R"j({"error":"revoked","message":"agent a1 was revoked","field":null})j"), cfg(), 1000, 0.5);
  CHECK(revoked.settlement.to == queue::State::verified);
  CHECK(revoked.credential_refused);
  CHECK(revoked.settlement.error_code == "forbidden");
  CHECK(revoked.settlement.error == "agent a1 was revoked");
  auto internal = upload::decide(item(), answer(400, R"j({"error":"internal","message":"x"})j"), cfg(), 1000, 0.5);
  CHECK(internal.settlement.to == queue::State::failed);
  CHECK(internal.settlement.error_code == "internal");
}

TEST_CASE("transient answers retry with backoff; Retry-After is honoured") {
  for (long st : {408L, 429L, 500L, 503L, 507L}) {
    auto d = upload::decide(item(2), answer(st, ""), cfg(), 10'000, 1.0);
    CHECK(d.settlement.to == queue::State::verified);
    CHECK(d.settlement.count_attempt);
    CHECK(d.settlement.next_attempt_at == 10'000 + 4000);  // 1 s * 2^2, full jitter draw 1.0
  }
  auto slow = upload::decide(item(0), answer(503, "", 30), cfg(), 10'000, 0.1);
  CHECK(slow.settlement.next_attempt_at == 10'000 + 30'000);
  auto capped = upload::decide(item(30), answer(503, ""), cfg(), 0, 1.0);
  CHECK(capped.settlement.next_attempt_at == 60'000);
}

TEST_CASE("transport errors: network retries, cancel does not count, unreadable spool fails") {
  auto net = upload::decide(item(), Result<http::Response>(fail(Errc::network, "refused")), cfg(), 0, 0.5);
  CHECK(net.settlement.to == queue::State::verified);
  CHECK(net.settlement.count_attempt);
  CHECK(net.settlement.error_code == "network");
  auto cancel = upload::decide(item(), Result<http::Response>(fail(Errc::cancelled, "")), cfg(), 5, 0.5);
  CHECK(cancel.settlement.to == queue::State::verified);
  CHECK_FALSE(cancel.settlement.count_attempt);
  CHECK(cancel.settlement.next_attempt_at == 5);
  auto io = upload::decide(item(), Result<http::Response>(fail(Errc::io_error, "gone")), cfg(), 0, 0.5);
  CHECK(io.settlement.to == queue::State::failed);
}
