// The records routes of Api: POST /api/v1/records, GET /api/v1/records/{kind}/{key},
// GET /api/v1/exams[?patient=], GET /api/v1/exams/{key}, GET /api/v1/tasks[?source=].
// Thin: the work is hub/records' RecordService; here are only HTTP shapes and limits.
#include <climits>

#include "common/hash/sha256.hpp"
#include "common/wire/records.hpp"
#include "hub/http/api.hpp"

namespace lightbox::hub::http {

namespace {

constexpr std::int64_t kMaxRecordListLimit = 1000;

// Buffers one records batch (bounded by records::kMaxBatchBytes) and stores it on finish.
class RecordsUpload final : public BodyHandler {
 public:
  RecordsUpload(records::RecordService& svc, records::Submitter who, std::string claimed,
                std::uint64_t expected, log::Logger& log)
      : svc_(svc), who_(std::move(who)), claimed_(std::move(claimed)), log_(log) {
    body_.reserve(static_cast<std::size_t>(expected));
  }
  Status write(const char* data, std::size_t n) override {
    if (body_.size() + n > records::kMaxBatchBytes)
      return fail(Errc::payload_too_large,
                  "records batch exceeds the limit of " + std::to_string(records::kMaxBatchBytes) + " bytes");
    body_.append(data, n);
    return {};
  }
  Response finish() override {
    try {
      auto answer = svc_.ingest(who_, body_, claimed_);
      if (!answer) return Response::error(answer.error());
      return Response::json(200, answer->to_json());
    } catch (const std::exception& e) {
      log_.error("hub.http", "unhandled exception", {{"where", "records.finish"}, {"what", e.what()}});
      return Response::error(fail(Errc::internal, "internal error"));
    }
  }

 private:
  records::RecordService& svc_;
  records::Submitter who_;
  std::string claimed_;
  std::string body_;
  log::Logger& log_;
};

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

Response json_or_error(Result<nlohmann::json> r) {
  if (!r) return Response::error(r.error());
  return Response::json(200, *r);
}

}  // namespace

Route match_records_route(std::string_view method, std::string_view path, std::string& param) {
  param.clear();
  auto only = [&](std::string_view allowed, Route r) {
    return method == allowed ? r : Route::method_not_allowed;
  };
  auto collection = [](std::string_view path, std::string_view base) {
    return path == base || (path.size() == base.size() + 1 && starts_with(path, base) && path.back() == '/');
  };
  if (collection(path, wire::kRecordsPath)) return only("POST", Route::post_records);
  if (collection(path, wire::kExamsPath)) return only("GET", Route::list_exams);
  if (collection(path, wire::kTasksPath)) return only("GET", Route::list_tasks);
  const std::string records_prefix = std::string(wire::kRecordsPath) + "/";
  if (starts_with(path, records_prefix)) {
    auto rest = path.substr(records_prefix.size());
    auto slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size() ||
        rest.find('/', slash + 1) != std::string_view::npos)
      return Route::not_found;
    param = std::string(rest);
    return only("GET", Route::get_record_versions);
  }
  const std::string exams_prefix = std::string(wire::kExamsPath) + "/";
  if (starts_with(path, exams_prefix)) {
    auto rest = path.substr(exams_prefix.size());
    if (rest.find('/') != std::string_view::npos) return Route::not_found;
    param = url_decode(rest);
    return only("GET", Route::get_exam);
  }
  return Route::not_found;
}

Dispatch Api::post_records(const Request& req, const index::Credential& who) {
  auto now = [](Response resp) { return Dispatch{std::move(resp), nullptr}; };
  const std::string header(wire::kHeaderBatch);
  std::string claimed = req.header(header);
  if (!hash::is_sha256_hex(claimed))
    return now(Response::error(fail(
        Errc::invalid_argument, "must be the SHA-256 of the body as 64 lowercase hex characters", header)));
  if (req.content_length && *req.content_length > records::kMaxBatchBytes)
    return now(Response::error(
        fail(Errc::payload_too_large,
             "records batch exceeds the limit of " + std::to_string(records::kMaxBatchBytes) + " bytes")));
  return Dispatch{std::nullopt,
                  std::make_unique<RecordsUpload>(records_, records::Submitter{who.institution, who.agent},
                                                  std::move(claimed), req.content_length.value_or(0), log_)};
}

Response Api::get_record_versions(const index::Credential& who, const std::string& kind_and_key) {
  auto slash = kind_and_key.find('/');
  std::string kind = url_decode(std::string_view(kind_and_key).substr(0, slash));
  std::string key = url_decode(std::string_view(kind_and_key).substr(slash + 1));
  return json_or_error(records_.versions(who.institution, kind, key));
}

Response Api::list_exams(const Request& req, const index::Credential& who) {
  auto query = req.query();
  std::string patient = query_param(query, "patient").value_or(query_param(query, "patient_id").value_or(""));
  auto limit = int_param(query, "limit", 100, 1, kMaxRecordListLimit);
  if (!limit) return Response::error(limit.error());
  auto offset = int_param(query, "offset", 0, 0, INT64_MAX);
  if (!offset) return Response::error(offset.error());
  return json_or_error(records_.list_exams(who.institution, patient, *limit, *offset));
}

Response Api::get_exam(const index::Credential& who, const std::string& key) {
  if (key.empty()) return Response::error(fail(Errc::invalid_argument, "exam key is empty", "key"));
  return json_or_error(records_.exam(who.institution, key));
}

Response Api::list_tasks(const Request& req, const index::Credential& who) {
  auto query = req.query();
  std::string source = query_param(query, "source").value_or("");
  auto limit = int_param(query, "limit", 100, 1, kMaxRecordListLimit);
  if (!limit) return Response::error(limit.error());
  auto offset = int_param(query, "offset", 0, 0, INT64_MAX);
  if (!offset) return Response::error(offset.error());
  return json_or_error(records_.list_tasks(who.institution, source, *limit, *offset));
}

}  // namespace lightbox::hub::http
