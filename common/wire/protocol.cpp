#include "common/wire/protocol.hpp"

namespace lightbox::wire {

std::string_view to_string(ObjectKind k) { return k == ObjectKind::dicom ? "dicom" : "attachment"; }

std::optional<ObjectKind> parse_object_kind(std::string_view s) {
  if (s == "dicom") return ObjectKind::dicom;
  if (s == "attachment") return ObjectKind::attachment;
  return std::nullopt;
}

std::string_view to_string(StoreOutcome o) {
  switch (o) {
    case StoreOutcome::Stored: return "Stored";
    case StoreOutcome::AlreadyStored: return "AlreadyStored";
    case StoreOutcome::Rejected: return "Rejected";
    case StoreOutcome::StorageFull: return "StorageFull";
  }
  return "Rejected";
}

std::optional<StoreOutcome> parse_store_outcome(std::string_view s) {
  for (auto o : {StoreOutcome::Stored, StoreOutcome::AlreadyStored, StoreOutcome::Rejected, StoreOutcome::StorageFull})
    if (to_string(o) == s) return o;
  return std::nullopt;
}

nlohmann::json Receipt::to_json() const {
  nlohmann::json j{{"sha256", sha256},
                   {"outcome", to_string(outcome)},
                   {"size", size},
                   {"kind", to_string(kind)},
                   {"stored_at", stored_at}};
  if (kind == ObjectKind::dicom) {
    j["study_uid"] = study_uid;
    j["series_uid"] = series_uid;
    j["sop_instance_uid"] = sop_instance_uid;
  }
  return j;
}

Result<Receipt> Receipt::from_json(const nlohmann::json& j) {
  if (!j.is_object()) return fail(Errc::invalid_argument, "receipt is not a JSON object");
  Receipt r;
  auto str = [&](const char* k) -> std::string {
    auto it = j.find(k);
    return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
  };
  r.sha256 = str("sha256");
  if (r.sha256.empty()) return fail(Errc::invalid_argument, "receipt has no sha256", "sha256");
  auto o = parse_store_outcome(str("outcome"));
  if (!o) return fail(Errc::invalid_argument, "receipt has an unknown outcome", "outcome");
  r.outcome = *o;
  if (auto it = j.find("size"); it != j.end() && it->is_number_unsigned()) r.size = it->get<std::uint64_t>();
  r.kind = parse_object_kind(str("kind")).value_or(ObjectKind::dicom);
  r.stored_at = str("stored_at");
  r.study_uid = str("study_uid");
  r.series_uid = str("series_uid");
  r.sop_instance_uid = str("sop_instance_uid");
  return r;
}

}  // namespace lightbox::wire
