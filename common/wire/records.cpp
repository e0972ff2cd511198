#include "common/wire/records.hpp"

#include <algorithm>

namespace lightbox::wire {

namespace {

std::string str_member(const nlohmann::json& j, const char* k) {
  auto it = j.find(k);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

std::uint64_t uint_member(const nlohmann::json& j, const char* k) {
  auto it = j.find(k);
  return (it != j.end() && it->is_number_unsigned()) ? it->get<std::uint64_t>() : 0;
}

// A required non-empty string member, or an error naming it.
Result<std::string> required_string(const nlohmann::json& j, const char* k) {
  auto it = j.find(k);
  if (it == j.end() || it->is_null()) return fail(Errc::invalid_argument, std::string(k) + " is missing", k);
  if (!it->is_string()) return fail(Errc::invalid_argument, std::string(k) + " must be a string", k);
  auto s = it->get<std::string>();
  if (s.empty()) return fail(Errc::invalid_argument, std::string(k) + " is empty", k);
  return s;
}

}  // namespace

bool is_record_kind(std::string_view kind) {
  return std::find(kRecordKinds.begin(), kRecordKinds.end(), kind) != kRecordKinds.end();
}

nlohmann::json Record::to_json() const {
  return {{"kind", kind}, {"key", key}, {"version", version}, {"fields", fields}};
}

Result<Record> Record::from_json(const nlohmann::json& j) {
  if (!j.is_object()) return fail(Errc::invalid_argument, "record is not a JSON object");
  Record r;
  for (auto [name, out] :
       {std::pair{"kind", &r.kind}, std::pair{"key", &r.key}, std::pair{"version", &r.version}}) {
    auto v = required_string(j, name);
    if (!v) return std::move(v).error();
    *out = std::move(*v);
  }
  auto it = j.find("fields");
  if (it == j.end() || it->is_null()) return fail(Errc::invalid_argument, "fields is missing", "fields");
  if (!it->is_object()) return fail(Errc::invalid_argument, "fields must be a JSON object", "fields");
  r.fields = *it;
  return r;
}

nlohmann::json batch_to_json(const std::vector<Record>& records) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& r : records) arr.push_back(r.to_json());
  return {{"records", std::move(arr)}};
}

nlohmann::json RecordRejection::to_json() const {
  nlohmann::json j{{"index", index}, {"kind", kind}, {"key", key}, {"error", error}, {"message", message}};
  j["field"] = field.empty() ? nlohmann::json(nullptr) : nlohmann::json(field);
  return j;
}

RecordRejection RecordRejection::from_json(const nlohmann::json& j) {
  RecordRejection r;
  if (!j.is_object()) return r;
  r.index = uint_member(j, "index");
  r.kind = str_member(j, "kind");
  r.key = str_member(j, "key");
  r.error = str_member(j, "error");
  r.message = str_member(j, "message");
  r.field = str_member(j, "field");
  return r;
}

nlohmann::json BatchAnswer::to_json() const {
  nlohmann::json rej = nlohmann::json::array();
  for (const auto& r : rejected) rej.push_back(r.to_json());
  return {{"sha256", sha256},
          {"outcome", to_string(outcome)},
          {"stored", stored},
          {"already_stored", already_stored},
          {"rejected", std::move(rej)}};
}

Result<BatchAnswer> BatchAnswer::from_json(const nlohmann::json& j) {
  if (!j.is_object()) return fail(Errc::invalid_argument, "batch answer is not a JSON object");
  BatchAnswer a;
  a.sha256 = str_member(j, "sha256");
  if (a.sha256.empty()) return fail(Errc::invalid_argument, "batch answer has no sha256", "sha256");
  auto o = parse_store_outcome(str_member(j, "outcome"));
  if (!o) return fail(Errc::invalid_argument, "batch answer has an unknown outcome", "outcome");
  a.outcome = *o;
  a.stored = uint_member(j, "stored");
  a.already_stored = uint_member(j, "already_stored");
  if (auto it = j.find("rejected"); it != j.end() && it->is_array())
    for (const auto& r : *it) a.rejected.push_back(RecordRejection::from_json(r));
  return a;
}

}  // namespace lightbox::wire
