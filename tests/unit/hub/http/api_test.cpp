#include "hub/http/api.hpp"

#include <doctest/doctest.h>

#include "common/fsio/atomic_file.hpp"
#include "tests/unit/hub/http/api_fixture.hpp"

using namespace lightbox;
using namespace lightbox::hub;
using http::Request;
using http::Response;
using http::Route;

namespace {

const std::string kToken1 = "lbt_token_one";
const std::string kToken2 = "lbt_token_two";

struct Fixture : test::ApiFixture {

  Fixture() {
    REQUIRE(repo->create_institution("h1", "H1").ok());
    REQUIRE(repo->create_institution("h2", "H2").ok());
    REQUIRE(repo->put_agent("h1", "a1", hash::sha256_hex(kToken1)).ok());
    REQUIRE(repo->put_agent("h2", "b1", hash::sha256_hex(kToken2)).ok());
  }

  static Request req(std::string method, std::string target, const std::string& token = kToken1) {
    return ApiFixture::req(std::move(method), std::move(target), token);
  }
  Response put(const std::string& sha, std::string_view body, const std::string& kind = "attachment",
               const std::string& token = kToken1) {
    auto r = req("PUT", "/api/v1/objects/" + sha, token);
    r.headers.emplace_back("X-Lightbox-Kind", kind);
    r.content_length = body.size();
    return api.handle(r, body, 7);
  }
};

}  // namespace

TEST_CASE("routing: path and method to route") {
  std::string p;
  const std::string sha(64, 'a');
  CHECK(http::match_route("GET", "/healthz", p) == Route::health);
  CHECK(http::match_route("POST", "/healthz", p) == Route::method_not_allowed);
  CHECK(http::match_route("PUT", "/api/v1/objects/" + sha, p) == Route::put_object);
  CHECK(p == sha);
  CHECK(http::match_route("GET", "/api/v1/objects/" + sha, p) == Route::get_object);
  CHECK(http::match_route("DELETE", "/api/v1/objects/" + sha, p) == Route::method_not_allowed);
  CHECK(http::match_route("GET", "/api/v1/objects/", p) == Route::not_found);
  CHECK(http::match_route("GET", "/api/v1/objects/a/b", p) == Route::not_found);
  CHECK(http::match_route("GET", "/api/v1/studies", p) == Route::list_studies);
  CHECK(http::match_route("GET", "/api/v1/studies/1.2.3", p) == Route::get_study);
  CHECK(p == "1.2.3");
  CHECK(http::match_route("PUT", "/api/v1/studies", p) == Route::method_not_allowed);
  CHECK(http::match_route("GET", "/nope", p) == Route::not_found);
}

TEST_CASE("query parsing and url decoding") {
  CHECK(http::url_decode("a%20b+c%2F") == "a b c/");
  CHECK(http::url_decode("bad%zz%") == "bad%zz%");
  CHECK(http::query_param("patient_id=P%201&limit=5", "patient_id") == "P 1");
  CHECK(http::query_param("patient_id=P1&limit=5", "limit") == "5");
  CHECK_FALSE(http::query_param("patient_id=P1", "offset").has_value());
  Request r;
  r.target = "/api/v1/studies?limit=3";
  CHECK(r.path() == "/api/v1/studies");
  CHECK(r.query() == "limit=3");
}

TEST_CASE("errors map to status and the JSON error body") {
  auto r = Response::error(fail(Errc::storage_full, "disk full"));
  CHECK(r.status == 507);
  REQUIRE(r.headers.size() == 1);
  CHECK(r.headers[0] == std::pair<std::string, std::string>{"Retry-After", "30"});
  CHECK(Response::error(fail(Errc::invalid_argument, "x")).headers.empty());
  CHECK(test::json_of(r) ==
        nlohmann::json{{"error", "storage_full"}, {"message", "disk full"}, {"field", nullptr}});
  CHECK(Response::error(fail(Errc::hash_mismatch, "x")).status == 400);
  CHECK(Response::error(fail(Errc::rejected, "x")).status == 422);
  CHECK(Response::error(fail(Errc::payload_too_large, "x")).status == 413);
}

TEST_CASE("api: health, unknown route, wrong method, authentication") {
  Fixture fx;
  auto h = fx.api.handle(Fixture::req("GET", "/healthz", ""));
  CHECK(h.status == 200);
  CHECK(test::json_of(h)["version"] == "1.2.3");
  CHECK(fx.api.handle(Fixture::req("GET", "/nope")).status == 404);
  auto m = fx.api.handle(Fixture::req("DELETE", "/api/v1/studies"));
  CHECK(m.status == 405);
  CHECK(test::json_of(m).contains("error"));

  auto none = fx.api.handle(Fixture::req("GET", "/api/v1/studies", ""));
  CHECK(none.status == 401);
  CHECK(test::json_of(none)["error"] == "unauthorized");
  CHECK(fx.api.handle(Fixture::req("GET", "/api/v1/studies", "lbt_wrong")).status == 401);

  auto as_other = Fixture::req("GET", "/api/v1/studies");
  as_other.headers.emplace_back("X-Lightbox-Agent", "b1");
  CHECK(fx.api.handle(as_other).status == 403);
  auto as_self = Fixture::req("GET", "/api/v1/studies");
  as_self.headers.emplace_back("x-lightbox-agent", "a1");
  CHECK(fx.api.handle(as_self).status == 200);

  REQUIRE(fx.repo->revoke_agent("a1").ok());
  auto revoked = fx.api.handle(Fixture::req("GET", "/api/v1/studies"));
  CHECK(revoked.status == 401);
  CHECK(test::json_of(revoked)["message"] == "credential revoked");
}

TEST_CASE("api: PUT validation, 201 then 200, GET scoped by institution") {
  Fixture fx;
  const std::string bytes = "%PDF-1.4 fake report";
  const std::string sha = hash::sha256_hex(bytes);

  auto bad_name = fx.put("XYZ", bytes);
  CHECK(bad_name.status == 400);
  CHECK(test::json_of(bad_name)["field"] == "sha256");
  auto bad_kind = fx.put(sha, bytes, "video");
  CHECK(bad_kind.status == 400);
  CHECK(test::json_of(bad_kind)["field"] == "X-Lightbox-Kind");
  auto mismatch = fx.put(hash::sha256_hex("else"), bytes);
  CHECK(mismatch.status == 400);
  CHECK(test::json_of(mismatch)["error"] == "hash_mismatch");
  CHECK(fx.put(sha, "not dicom", "dicom").status == 400);  // name differs from the bytes
  CHECK(fx.put(hash::sha256_hex("not dicom"), "not dicom", "dicom").status == 422);

  auto big_req = Fixture::req("PUT", "/api/v1/objects/" + sha);
  big_req.headers.emplace_back("X-Lightbox-Kind", "attachment");
  big_req.content_length = 10 << 20;
  CHECK(fx.api.begin(big_req).response->status == 413);

  auto first = fx.put(sha, bytes);
  CHECK(first.status == 201);
  CHECK(test::json_of(first)["outcome"] == "Stored");
  CHECK(test::json_of(first)["sha256"] == sha);
  auto second = fx.put(sha, bytes);
  CHECK(second.status == 200);
  CHECK(test::json_of(second)["outcome"] == "AlreadyStored");

  auto get = fx.api.handle(Fixture::req("GET", "/api/v1/objects/" + sha));
  CHECK(get.status == 200);
  CHECK(get.body == bytes);
  CHECK(get.content_type == "application/octet-stream");
  CHECK(fx.api.handle(Fixture::req("GET", "/api/v1/objects/" + sha, kToken2)).status == 404);
  CHECK(fx.api.handle(Fixture::req("GET", "/api/v1/objects/" + hash::sha256_hex("none"))).status == 404);
}

TEST_CASE("api: studies list and detail from an uploaded DICOM file") {
  Fixture fx;
  test::TinyDicom td;
  REQUIRE(test::write_tiny_dicom(fx.dir / "t.dcm", td));
  std::string bytes = *fsio::read_file(fx.dir / "t.dcm");
  auto r = fx.put(hash::sha256_hex(bytes), bytes, "dicom");
  REQUIRE(r.status == 201);
  CHECK(test::json_of(r)["study_uid"] == td.study_uid);

  auto list = fx.api.handle(Fixture::req("GET", "/api/v1/studies?patient_id=" + td.patient_id));
  REQUIRE(list.status == 200);
  auto j = test::json_of(list);
  REQUIRE(j["studies"].size() == 1);
  CHECK(j["studies"][0]["instance_count"] == 1);
  CHECK(j["studies"][0]["modalities"] == nlohmann::json::array({td.modality}));
  CHECK(test::json_of(fx.api.handle(Fixture::req("GET", "/api/v1/studies", kToken2)))["studies"].empty());
  CHECK(fx.api.handle(Fixture::req("GET", "/api/v1/studies?limit=0")).status == 400);

  auto d = fx.api.handle(Fixture::req("GET", "/api/v1/studies/" + td.study_uid));
  REQUIRE(d.status == 200);
  auto dj = test::json_of(d);
  CHECK(dj["series"][0]["instances"][0]["sop_instance_uid"] == td.sop_instance_uid);
  CHECK(dj["series"][0]["instances"][0]["sha256"] == hash::sha256_hex(bytes));
  CHECK(fx.api.handle(Fixture::req("GET", "/api/v1/studies/" + td.study_uid, kToken2)).status == 404);
}

namespace {

// A store whose disk is full (or that throws), around a working one.
class FailingStore final : public store::ObjectStore {
 public:
  FailingStore(store::ObjectStore& inner, bool throws) : inner_(inner), throws_(throws) {}
  std::string staging_dir() const override { return inner_.staging_dir(); }
  Status put(const std::string&, fsio::AtomicFile&& staged) override {
    staged.abandon();
    if (throws_) throw std::runtime_error("boom");
    return fail(Errc::storage_full, "cannot write: No space left on device");
  }
  Result<std::uint64_t> size(const std::string& s) const override { return inner_.size(s); }
  Result<store::Blob> open(const std::string& s) const override { return inner_.open(s); }
  Status remove(const std::string& s) override { return inner_.remove(s); }

 private:
  store::ObjectStore& inner_;
  bool throws_;
};

}  // namespace

TEST_CASE("api: a full disk is 507 storage_full, an exception is 500 JSON, nothing is indexed") {
  Fixture fx;
  for (bool throws : {false, true}) {
    FailingStore failing(fx.store, throws);
    ingest::Pipeline pipeline(failing, *fx.repo, fx.log, 1 << 20);
    http::Api api(pipeline, *fx.repo, failing, fx.records, fx.log, "t");
    const std::string bytes = "some bytes";
    auto r = Fixture::req("PUT", "/api/v1/objects/" + hash::sha256_hex(bytes));
    r.headers.emplace_back("X-Lightbox-Kind", "attachment");
    auto resp = api.handle(r, bytes);
    CHECK(resp.status == (throws ? 500 : 507));
    CHECK(test::json_of(resp)["error"] == (throws ? "internal" : "storage_full"));
    CHECK(fx.repo->find_object(hash::sha256_hex(bytes), "h1").error().code == Errc::not_found);
  }
}

TEST_CASE("routing: records, exams and tasks") {
  std::string p;
  CHECK(http::match_route("POST", "/api/v1/records", p) == Route::post_records);
  CHECK(http::match_route("POST", "/api/v1/records/", p) == Route::post_records);
  CHECK(http::match_route("GET", "/api/v1/records", p) == Route::method_not_allowed);
  CHECK(http::match_route("GET", "/api/v1/records/exam/E%2F1", p) == Route::get_record_versions);
  CHECK(p == "exam/E%2F1");
  CHECK(http::match_route("POST", "/api/v1/records/exam/E1", p) == Route::method_not_allowed);
  CHECK(http::match_route("GET", "/api/v1/records/exam", p) == Route::not_found);
  CHECK(http::match_route("GET", "/api/v1/records/exam/", p) == Route::not_found);
  CHECK(http::match_route("GET", "/api/v1/records/exam/E1/x", p) == Route::not_found);
  CHECK(http::match_route("GET", "/api/v1/exams", p) == Route::list_exams);
  CHECK(http::match_route("GET", "/api/v1/exams/E%201", p) == Route::get_exam);
  CHECK(p == "E 1");
  CHECK(http::match_route("DELETE", "/api/v1/exams/E1", p) == Route::method_not_allowed);
  CHECK(http::match_route("GET", "/api/v1/exams/E1/report", p) == Route::not_found);
  CHECK(http::match_route("GET", "/api/v1/tasks", p) == Route::list_tasks);
  CHECK(http::match_route("POST", "/api/v1/tasks", p) == Route::method_not_allowed);
  CHECK(http::match_route("GET", "/api/v1/examsx", p) == Route::not_found);
}

namespace {

Response post_records(Fixture& fx, const std::string& body, const std::string& batch_header,
                      const std::string& token = kToken1) {
  auto r = Fixture::req("POST", "/api/v1/records", token);
  if (!batch_header.empty()) r.headers.emplace_back("X-Lightbox-Batch", batch_header);
  r.content_length = body.size();
  return fx.api.handle(r, body, 5);
}

}  // namespace

TEST_CASE("api: POST /api/v1/records stores a batch, checks its hash and rejects bad records one by one") {
  Fixture fx;
  const std::string body = R"({"records":[
    {"kind":"exam","key":"E1","version":"2026-11-28T08:00:00Z","fields":{"patient_id":"P1","accession_number":"A1"}},
    {"kind":"exam","key":"E2","version":"2026-11-28T08:00:00Z","fields":{"patient_id":"P1","performed":"soon"}},
    {"kind":"report","key":"R1","version":"1","fields":{"exam_key":"E1","impression":"未见异常"}}]})";
  const std::string sha = hash::sha256_hex(body);

  auto resp = post_records(fx, body, "");
  CHECK(resp.status == 400);
  CHECK(test::json_of(resp)["field"] == "X-Lightbox-Batch");
  resp = post_records(fx, body, hash::sha256_hex("other"));
  CHECK(resp.status == 400);
  CHECK(test::json_of(resp)["error"] == "hash_mismatch");
  CHECK(fx.api.handle(Fixture::req("GET", "/api/v1/exams/E1")).status == 404);

  resp = post_records(fx, body, sha, "");
  CHECK(resp.status == 401);

  resp = post_records(fx, body, sha);
  REQUIRE(resp.status == 200);
  auto j = test::json_of(resp);
  CHECK(j["sha256"] == sha);
  CHECK(j["outcome"] == "Stored");
  CHECK(j["stored"] == 2);
  CHECK(j["already_stored"] == 0);
  REQUIRE(j["rejected"].size() == 1);
  CHECK(j["rejected"][0] == nlohmann::json::parse(R"J({"index":1,"kind":"exam","key":"E2","error":"invalid_argument",
      "message":"fields.performed must be an ISO-8601 date or time (2026-11-28T08:00:00Z)","field":"fields.performed"})J"));

  resp = post_records(fx, body, sha);  // the agent retried after a lost answer
  REQUIRE(resp.status == 200);
  CHECK(test::json_of(resp)["stored"] == 0);
  CHECK(test::json_of(resp)["already_stored"] == 2);

  resp = fx.api.handle(Fixture::req("GET", "/api/v1/exams/E1"));
  REQUIRE(resp.status == 200);
  CHECK(test::json_of(resp)["report"]["fields"]["impression"] == "未见异常");
  resp = fx.api.handle(Fixture::req("GET", "/api/v1/exams?patient=P1"));
  REQUIRE(resp.status == 200);
  CHECK(test::json_of(resp)["exams"].size() == 1);
  resp = fx.api.handle(Fixture::req("GET", "/api/v1/records/report/R1"));
  REQUIRE(resp.status == 200);
  CHECK(test::json_of(resp)["versions"].size() == 1);
  CHECK(fx.api.handle(Fixture::req("GET", "/api/v1/records/visit/R1")).status == 400);
  CHECK(fx.api.handle(Fixture::req("GET", "/api/v1/records/report/R9")).status == 404);
  CHECK(fx.api.handle(Fixture::req("GET", "/api/v1/tasks?limit=0")).status == 400);
  resp = fx.api.handle(Fixture::req("GET", "/api/v1/tasks?source=ris"));
  REQUIRE(resp.status == 200);
  CHECK(test::json_of(resp)["tasks"].empty());

  // Another institution sees none of it.
  CHECK(fx.api.handle(Fixture::req("GET", "/api/v1/exams/E1", kToken2)).status == 404);
  CHECK(fx.api.handle(Fixture::req("GET", "/api/v1/records/report/R1", kToken2)).status == 404);
  CHECK(test::json_of(fx.api.handle(Fixture::req("GET", "/api/v1/exams?patient=P1", kToken2)))["exams"].empty());
}

TEST_CASE("api: records batches over the limit are 413, a body that is not a batch is 400") {
  Fixture fx;
  auto r = Fixture::req("POST", "/api/v1/records");
  r.headers.emplace_back("X-Lightbox-Batch", std::string(64, 'a'));
  r.content_length = records::kMaxBatchBytes + 1;
  auto d = fx.api.begin(r);
  REQUIRE(d.response.has_value());
  CHECK(d.response->status == 413);

  // Without a Content-Length the limit holds while the body streams in.
  r.content_length.reset();
  d = fx.api.begin(r);
  REQUIRE(d.body);
  const std::string mib(1 << 20, ' ');
  Status last;
  for (int i = 0; i <= 32 && last.ok(); ++i) last = d.body->write(mib.data(), mib.size());
  REQUIRE_FALSE(last.ok());
  CHECK(last.error().code == Errc::payload_too_large);

  const std::string not_json = "records: none";
  auto resp = post_records(fx, not_json, hash::sha256_hex(not_json));
  CHECK(resp.status == 400);
  CHECK(test::json_of(resp)["error"] == "invalid_argument");
}
