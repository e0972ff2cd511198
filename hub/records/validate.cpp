#include "hub/records/validate.hpp"

#include <array>
#include <vector>

#include "common/dicom/verify.hpp"
#include "common/hash/sha256.hpp"

namespace lightbox::hub::records {

namespace {

enum class Type { text, time, uid, count, boolean, number, scalar, sha256, list };

/// One known field of a kind.
struct FieldRule {
  std::string_view name;
  Type type;
  bool required = false;
};

/// The rules of one kind; `one_of` = at least one of these fields must be present.
struct KindRule {
  std::string_view kind;
  std::vector<FieldRule> fields;
  std::vector<std::string_view> one_of;
};

constexpr bool kReq = true;

// The contract of each kind (docs/api.md lists the same table for people).
const KindRule* rule_for(std::string_view kind) {
  static const std::array<KindRule, 14> kRules = {{
      {"order",
       {{"patient_id", Type::text, kReq},
        {"accession_number", Type::text},
        {"exam_key", Type::text},
        {"apply_time", Type::time},
        {"requested", Type::time},
        {"apply_dept", Type::text},
        {"apply_doctor", Type::text},
        {"clinical_diagnosis", Type::text},
        {"exam_purpose", Type::text},
        {"items", Type::list}},
       {}},
      {"exam",
       {{"patient_id", Type::text, kReq},
        {"accession_number", Type::text},
        {"order_key", Type::text},
        {"study_uid", Type::uid},
        {"modality", Type::text},
        {"item_code", Type::text},
        {"item_name", Type::text},
        {"body_part", Type::text},
        {"status", Type::text},
        {"expected_instances", Type::count},
        {"requested", Type::time},
        {"scheduled", Type::time},
        {"checked_in", Type::time},
        {"performed", Type::time},
        {"qc", Type::time},
        {"reported", Type::time},
        {"published", Type::time}},
       {}},
      {"report",
       {{"exam_key", Type::text},
        {"accession_number", Type::text},
        {"patient_id", Type::text},
        {"findings", Type::text},
        {"impression", Type::text},
        {"reporting_doctor", Type::text},
        {"reviewing_doctor", Type::text},
        {"report_time", Type::time},
        {"review_time", Type::time},
        {"status", Type::text}},
       {"exam_key", "accession_number"}},
      {"report_indicator",
       {{"report_key", Type::text, kReq},
        {"code", Type::text},
        {"name", Type::text},
        {"value", Type::scalar},
        {"unit", Type::text},
        {"abnormal_flag", Type::text}},
       {"code", "name"}},
      {"series",
       {{"study_uid", Type::uid, kReq},
        {"series_uid", Type::uid, kReq},
        {"modality", Type::text},
        {"series_number", Type::count},
        {"instance_count", Type::count}},
       {}},
      {"report_image",
       {{"report_key", Type::text, kReq},
        {"sha256", Type::sha256},
        {"format", Type::text},
        {"width", Type::count},
        {"height", Type::count}},
       {}},
      {"media_server",
       {{"protocol", Type::text, kReq},
        {"type", Type::text},
        {"base_url", Type::text},
        {"ae_title", Type::text},
        {"capacity_bytes", Type::count},
        {"used_bytes", Type::count},
        {"status", Type::text}},
       {}},
      {"patient",
       {{"name", Type::text, kReq},
        {"sex", Type::text},
        {"birth_date", Type::time},
        {"id_doc_type", Type::text},
        {"id_doc_no", Type::text}},
       {}},
      {"ris_pacs_link",
       {{"accession_number", Type::text, kReq},
        {"study_uid", Type::uid, kReq},
        {"exam_key", Type::text},
        {"link_method", Type::text},
        {"linked_at", Type::time}},
       {}},
      {"qc",
       {{"exam_key", Type::text, kReq},
        {"grade", Type::scalar},
        {"passed", Type::boolean},
        {"score", Type::number},
        {"qc_by", Type::text},
        {"qc_time", Type::time}},
       {}},
      {"authorization",
       {{"patient_id", Type::text, kReq},
        {"grantee_id", Type::text},
        {"scope", Type::text},
        {"granted_at", Type::time},
        {"expires_at", Type::time},
        {"revoked_at", Type::time},
        {"status", Type::text}},
       {}},
      {"citation",
       {{"report_key", Type::text, kReq},
        {"cited_in", Type::text},
        {"cited_time", Type::time},
        {"doctor", Type::text},
        {"dept", Type::text}},
       {}},
      {"recognition",
       {{"decision", Type::text, kReq},
        {"exam_key", Type::text},
        {"reason_code", Type::text},
        {"decided_at", Type::time},
        {"doctor", Type::text}},
       {}},
      {"collection_task",
       {{"source", Type::text, kReq},
        {"kind", Type::text, kReq},
        {"window_start", Type::time},
        {"window_end", Type::time},
        {"found", Type::count},
        {"collected", Type::count},
        {"verified", Type::count},
        {"uploaded", Type::count},
        {"failed", Type::count},
        {"started_at", Type::time},
        {"finished_at", Type::time}},
       {}},
  }};
  for (const auto& r : kRules)
    if (r.kind == kind) return &r;
  return nullptr;
}

bool digits(std::string_view s, std::size_t at, std::size_t n, int max_value) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  return v <= max_value;
}

bool has_control(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

// Why `v` does not fit `t`, or "" when it does.
std::string_view mismatch(const nlohmann::json& v, Type t) {
  switch (t) {
    case Type::text:
      return v.is_string() || v.is_number_integer() ? "" : "must be a string";
    case Type::time:
      return v.is_string() && is_iso_time(v.get_ref<const std::string&>())
                 ? ""
                 : "must be an ISO-8601 date or time (2026-11-28T08:00:00Z)";
    case Type::uid:
      return v.is_string() && dicom::is_valid_uid(v.get<std::string>()) ? "" : "must be a DICOM UID";
    case Type::count:
      return v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0)
                 ? ""
                 : "must be a non-negative integer";
    case Type::boolean:
      return v.is_boolean() ? "" : "must be true or false";
    case Type::number:
      return v.is_number() ? "" : "must be a number";
    case Type::scalar:
      return v.is_string() || v.is_number() || v.is_boolean() ? "" : "must be a string or a number";
    case Type::sha256:
      return v.is_string() && hash::is_sha256_hex(v.get_ref<const std::string&>())
                 ? ""
                 : "must be 64 lowercase hex";
    case Type::list:
      return v.is_array() ? "" : "must be an array";
  }
  return "";
}

bool present(const nlohmann::json& fields, std::string_view name) {
  auto it = fields.find(name);
  if (it == fields.end() || it->is_null()) return false;
  return !(it->is_string() && it->get_ref<const std::string&>().empty());
}

}  // namespace

bool is_iso_time(std::string_view s) {
  // Date: YYYY-MM-DD
  if (s.size() < 10 || !digits(s, 0, 4, 9999) || s[4] != '-' || !digits(s, 5, 2, 12) || s[7] != '-' ||
      !digits(s, 8, 2, 31))
    return false;
  if (s.substr(5, 2) == "00" || s.substr(8, 2) == "00") return false;
  if (s.size() == 10) return true;
  // Time: [T ]HH:MM[:SS[.fff]]
  if ((s[10] != 'T' && s[10] != ' ') || !digits(s, 11, 2, 23) || s.size() < 16 || s[13] != ':' ||
      !digits(s, 14, 2, 59))
    return false;
  std::size_t i = 16;
  if (i < s.size() && s[i] == ':') {
    if (!digits(s, i + 1, 2, 60)) return false;
    i += 3;
    if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
      std::size_t j = i + 1;
      while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
      if (j == i + 1) return false;
      i = j;
    }
  }
  if (i == s.size()) return true;
  // Zone: Z | +HH[:MM] | +HHMM
  if (s[i] == 'Z') return i + 1 == s.size();
  if (s[i] != '+' && s[i] != '-') return false;
  if (!digits(s, i + 1, 2, 23)) return false;
  std::size_t rest = s.size() - (i + 3);
  if (rest == 0) return true;
  if (rest == 3) return s[i + 3] == ':' && digits(s, i + 4, 2, 59);
  if (rest == 2) return digits(s, i + 3, 2, 59);
  return false;
}

Status validate(const wire::Record& r) {
  const KindRule* rule = rule_for(r.kind);
  if (!rule) return fail(Errc::invalid_argument, "unknown record kind '" + r.kind + "'", "kind");
  if (r.key.empty()) return fail(Errc::invalid_argument, "key is empty", "key");
  if (r.key.size() > kMaxKeyBytes || has_control(r.key))
    return fail(Errc::invalid_argument,
                "key must be at most " + std::to_string(kMaxKeyBytes) + " bytes without control characters",
                "key");
  if (r.version.empty()) return fail(Errc::invalid_argument, "version is empty", "version");
  if (r.version.size() > kMaxVersionBytes || has_control(r.version))
    return fail(
        Errc::invalid_argument,
        "version must be at most " + std::to_string(kMaxVersionBytes) + " bytes without control characters",
        "version");
  if (!r.fields.is_object()) return fail(Errc::invalid_argument, "fields must be a JSON object", "fields");
  if (r.fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size() > kMaxFieldsBytes)
    return fail(Errc::invalid_argument, "fields exceed " + std::to_string(kMaxFieldsBytes) + " bytes",
                "fields");
  for (const auto& f : rule->fields) {
    const std::string path = "fields." + std::string(f.name);
    auto it = r.fields.find(f.name);
    const bool has = present(r.fields, f.name);
    if (f.required && !has)
      return fail(Errc::invalid_argument, path + " is required for " + r.kind + " records", path);
    if (it == r.fields.end() || it->is_null()) continue;  // NULL columns are absent values
    if (auto why = mismatch(*it, f.type); !why.empty())
      return fail(Errc::invalid_argument, path + " " + std::string(why), path);
  }
  if (!rule->one_of.empty()) {
    bool any = false;
    std::string names;
    for (auto name : rule->one_of) {
      any = any || present(r.fields, name);
      names += (names.empty() ? "fields." : " or fields.") + std::string(name);
    }
    if (!any)
      return fail(Errc::invalid_argument, r.kind + " records need " + names,
                  "fields." + std::string(rule->one_of.front()));
  }
  return {};
}

}  // namespace lightbox::hub::records
