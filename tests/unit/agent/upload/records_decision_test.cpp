#include "agent/upload/records_decision.hpp"

#include <doctest/doctest.h>

using namespace lightbox;
using namespace lightbox::agent;

namespace {

queue::Item batch_item(std::int64_t attempts = 0) {
  queue::Item it;
  it.id = 9;
  it.sha256 = std::string(64, 'b');
  it.kind = "records";
  it.source = "ris";
  it.rel_path = "records/exam-1.json";
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

Result<http::Response> answer(long status, nlohmann::json body) {
  http::Response r;
  r.status = status;
  r.body = body.is_string() ? body.get<std::string>() : body.dump();
  return r;
}

nlohmann::json stored(const std::string& sha, int n = 2) {
  return {{"sha256", sha}, {"outcome", "Stored"}, {"stored", n}, {"already_stored", 0}, {"rejected", nlohmann::json::array()}};
}

}  // namespace

TEST_CASE("a records batch is POSTed with its hash in X-Lightbox-Batch") {
  auto h = upload::records_headers(batch_item());
  REQUIRE(h.size() == 3);
  CHECK(h[0] == std::pair<std::string, std::string>{"X-Lightbox-Batch", std::string(64, 'b')});
  CHECK(h[1].second == "ris");
  CHECK(h[2] == std::pair<std::string, std::string>{"Content-Type", "application/json"});
}

TEST_CASE("done when the hub's answer echoes the batch hash") {
  auto d = upload::decide(batch_item(), answer(200, stored(std::string(64, 'b'))), cfg(), 1000, 0.5);
  CHECK(d.delivered);
  CHECK_FALSE(d.already_stored);
  CHECK(d.settlement.to == queue::State::done);
  CHECK(d.settlement.error.empty());
  auto again = stored(std::string(64, 'b'), 0);
  again["already_stored"] = 2;
  again["outcome"] = "AlreadyStored";
  auto d2 = upload::decide(batch_item(), answer(200, again), cfg(), 1000, 0.5);
  CHECK(d2.delivered);
  CHECK(d2.already_stored);
}

TEST_CASE("an answer naming another batch is a failure, not a delivery") {
  auto d = upload::decide(batch_item(), answer(200, stored(std::string(64, 'c'))), cfg(), 1000, 0.5);
  CHECK_FALSE(d.delivered);
  CHECK(d.settlement.to == queue::State::failed);
  CHECK(d.settlement.error_code == "hash_mismatch");
}

TEST_CASE("rejected records are kept in last_error and the batch is not retried") {
  auto a = stored(std::string(64, 'b'), 1);
  a["rejected"] = {{{"index", 1}, {"kind", "exam"}, {"key", "E2"}, {"error", "invalid_argument"},
                    {"message", "fields.performed must be an ISO-8601 date or time"}, {"field", "fields.performed"}},
                   {{"index", 4}, {"kind", "exam"}, {"key", "E5"}, {"error", "invalid_argument"},
                    {"message", "fields.patient_id is required for exam records"}, {"field", "fields.patient_id"}}};
  auto d = upload::decide(batch_item(), answer(200, a), cfg(), 1000, 0.5);
  CHECK(d.delivered);
  CHECK(d.settlement.to == queue::State::done);
  CHECK(d.settlement.error_code == "records_rejected");
  CHECK(d.settlement.error.find("2 records rejected by the hub") == 0);
  CHECK(d.settlement.error.find("records[1] exam E2: fields.performed must be") != std::string::npos);
  CHECK(d.settlement.error.find("(fields.patient_id)") != std::string::npos);
}

TEST_CASE("an unreadable answer or a full hub is retried; 400 hash_mismatch fails") {
  auto d = upload::decide(batch_item(2), answer(200, nlohmann::json("<html>")), cfg(), 1000, 1.0);
  CHECK(d.settlement.to == queue::State::verified);
  CHECK(d.settlement.count_attempt);
  CHECK(d.settlement.next_attempt_at == 1000 + 4000);
  auto full = stored(std::string(64, 'b'), 0);
  full["outcome"] = "StorageFull";
  CHECK(upload::decide(batch_item(), answer(200, full), cfg(), 1000, 0.5).settlement.to == queue::State::verified);
  auto bad = upload::decide(batch_item(), answer(400, {{"error", "hash_mismatch"}, {"message", "body hashes to x"}}),
                            cfg(), 1000, 0.5);
  CHECK(bad.settlement.to == queue::State::failed);
  CHECK(bad.settlement.error_code == "hash_mismatch");
  CHECK(upload::decide(batch_item(), answer(503, {{"error", "busy"}}), cfg(), 1000, 0.5).settlement.to ==
        queue::State::verified);
}
