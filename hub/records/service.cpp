#include "hub/records/service.hpp"

#include <algorithm>

#include "common/hash/sha256.hpp"
#include "hub/records/validate.hpp"

namespace lightbox::hub::records {

namespace {

std::string string_member(const nlohmann::json& j, const char* k) {
  if (!j.is_object()) return {};
  auto it = j.find(k);
  if (it == j.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return it->dump();
  return {};
}

wire::RecordRejection rejection(std::size_t index, const nlohmann::json& raw, const Error& e) {
  wire::RecordRejection r;
  r.index = index;
  r.kind = string_member(raw, "kind");
  r.key = string_member(raw, "key");
  r.error = std::string(errc_name(e.code));
  r.message = e.message;
  r.field = e.field;
  return r;
}

nlohmann::json optional_json(const std::optional<index::StoredRecord>& r) {
  return r ? to_json(*r) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json to_json(const index::StoredRecord& r) {
  return {{"kind", r.kind},
          {"key", r.key},
          {"version", r.version},
          {"fields", r.fields},
          {"received_at", r.received_at},
          {"agent", r.agent},
          {"current", r.current}};
}

nlohmann::json study_json(const index::StudySummary& s) {
  return {{"study_uid", s.study_uid},       {"accession_number", s.accession_number},
          {"patient_id", s.patient_id},     {"patient_name", s.patient_name},
          {"study_date", s.study_date},     {"modalities", s.modalities},
          {"series_count", s.series_count}, {"instance_count", s.instance_count}};
}

Result<wire::BatchAnswer> RecordService::ingest(const Submitter& who, std::string_view body,
                                                std::string_view claimed_sha256) {
  const std::string header(wire::kHeaderBatch);
  if (!hash::is_sha256_hex(claimed_sha256))
    return fail(Errc::invalid_argument, "must be the SHA-256 of the body as 64 lowercase hex characters",
                header);
  if (body.size() > kMaxBatchBytes)
    return fail(Errc::payload_too_large,
                "records batch exceeds " + std::to_string(kMaxBatchBytes) + " bytes");
  wire::BatchAnswer answer;
  answer.sha256 = hash::sha256_hex(body);
  if (answer.sha256 != claimed_sha256)
    return fail(Errc::hash_mismatch,
                "batch hashes to " + answer.sha256 + ", not " + std::string(claimed_sha256) + " as declared",
                header);
  auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    return fail(Errc::invalid_argument, "batch is not a JSON object (UTF-8) of the form {\"records\":[...]}");
  auto items = doc.find("records");
  if (items == doc.end() || !items->is_array())
    return fail(Errc::invalid_argument, "batch has no \"records\" array", "records");

  std::vector<wire::Record> good;
  std::vector<std::size_t> good_index;
  good.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    const auto& raw = (*items)[i];
    auto rec = wire::Record::from_json(raw);
    if (!rec) {
      answer.rejected.push_back(rejection(i, raw, rec.error()));
      continue;
    }
    if (auto s = validate(*rec); !s) {
      answer.rejected.push_back(rejection(i, raw, s.error()));
      continue;
    }
    good.push_back(std::move(*rec));
    good_index.push_back(i);
  }
  // One transaction for the whole batch; it is committed (fsynced) before we answer.
  auto outcomes = repo_.put_records(who.institution, who.agent, good);
  if (!outcomes) return std::move(outcomes).error();
  for (std::size_t n = 0; n < outcomes->size(); ++n) {
    switch ((*outcomes)[n]) {
      case index::PutOutcome::Stored:
        ++answer.stored;
        break;
      case index::PutOutcome::AlreadyStored:
        ++answer.already_stored;
        break;
      case index::PutOutcome::Conflict: {
        const auto& r = good[n];
        answer.rejected.push_back(
            rejection(good_index[n], r.to_json(),
                      fail(Errc::conflict,
                           "version " + r.version + " of " + r.kind + "/" + r.key +
                               " is already stored with other fields; a changed record needs a new version",
                           "version")));
        break;
      }
    }
  }
  std::sort(answer.rejected.begin(), answer.rejected.end(),
            [](const auto& a, const auto& b) { return a.index < b.index; });
  answer.outcome = wire::StoreOutcome::Stored;
  nlohmann::json log_fields{{"institution", who.institution},    {"agent", who.agent},
                            {"sha256", answer.sha256},           {"records", items->size()},
                            {"stored", answer.stored},           {"already_stored", answer.already_stored},
                            {"rejected", answer.rejected.size()}};
  if (!answer.rejected.empty()) {
    log_fields["first_rejection"] = answer.rejected.front().to_json();
    log_.warn("hub.records", "records batch with rejections", std::move(log_fields));
  } else {
    log_.info("hub.records", "records batch", std::move(log_fields));
  }
  return answer;
}

Result<nlohmann::json> RecordService::versions(const std::string& institution, const std::string& kind,
                                               const std::string& key) {
  if (!wire::is_record_kind(kind))
    return fail(Errc::invalid_argument, "unknown record kind '" + kind + "'", "kind");
  auto all = repo_.versions(institution, kind, key);
  if (!all) return std::move(all).error();
  if (all->empty()) return fail(Errc::not_found, "no " + kind + " record '" + key + "'");
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& r : *all) arr.push_back(to_json(r));
  return nlohmann::json{{"kind", kind}, {"key", key}, {"versions", std::move(arr)}};
}

Result<std::optional<index::StoredRecord>> RecordService::first_current(const std::string& institution,
                                                                        const std::string& kind,
                                                                        index::LinkField by,
                                                                        const std::string& value) {
  if (value.empty()) return std::optional<index::StoredRecord>();
  index::RecordQuery q;
  q.kind = kind;
  q.by = by;
  q.value = value;
  q.limit = 1;
  auto found = repo_.list_current(institution, q);
  if (!found) return std::move(found).error();
  if (found->empty()) return std::optional<index::StoredRecord>();
  return std::optional<index::StoredRecord>(std::move(found->front()));
}

Result<nlohmann::json> RecordService::exam(const std::string& institution, const std::string& key) {
  auto exam = repo_.current(institution, "exam", key);
  if (!exam) return std::move(exam).error();
  if (!*exam) return fail(Errc::not_found, "no exam '" + key + "'");
  const auto& f = (*exam)->fields;
  const std::string accession = string_member(f, "accession_number");
  using index::LinkField;

  // The order: named by the exam, else the one with the same accession number.
  std::optional<index::StoredRecord> order;
  if (auto order_key = string_member(f, "order_key"); !order_key.empty()) {
    auto o = repo_.current(institution, "order", order_key);
    if (!o) return std::move(o).error();
    order = std::move(*o);
  }
  if (!order) {
    auto o = first_current(institution, "order", LinkField::exam_key, key);
    if (!o) return std::move(o).error();
    order = std::move(*o);
  }
  if (!order) {
    auto o = first_current(institution, "order", LinkField::accession_number, accession);
    if (!o) return std::move(o).error();
    order = std::move(*o);
  }
  // The report and QC point at the exam (a report may carry only the accession number).
  auto report = first_current(institution, "report", LinkField::exam_key, key);
  if (!report) return std::move(report).error();
  if (!*report) {
    report = first_current(institution, "report", LinkField::accession_number, accession);
    if (!report) return std::move(report).error();
  }
  auto qc = first_current(institution, "qc", LinkField::exam_key, key);
  if (!qc) return std::move(qc).error();

  // RIS-PACS links by exam key and by accession number, plus the exam's own study UID.
  std::vector<std::string> uids;
  nlohmann::json links = nlohmann::json::array();
  auto add_uid = [&](const std::string& uid) {
    if (!uid.empty() && std::find(uids.begin(), uids.end(), uid) == uids.end()) uids.push_back(uid);
  };
  add_uid(string_member(f, "study_uid"));
  std::vector<std::string> link_keys;
  for (auto [by, value] :
       {std::pair{LinkField::exam_key, key}, std::pair{LinkField::accession_number, accession}}) {
    if (value.empty()) continue;
    index::RecordQuery q;
    q.kind = "ris_pacs_link";
    q.by = by;
    q.value = value;
    q.limit = 100;
    auto found = repo_.list_current(institution, q);
    if (!found) return std::move(found).error();
    for (const auto& l : *found) {
      if (std::find(link_keys.begin(), link_keys.end(), l.key) != link_keys.end()) continue;
      link_keys.push_back(l.key);
      add_uid(string_member(l.fields, "study_uid"));
      links.push_back(to_json(l));
    }
  }
  auto studies = repo_.find_studies(institution, uids, accession);
  if (!studies) return std::move(studies).error();
  nlohmann::json studies_json = nlohmann::json::array();
  for (const auto& s : *studies) studies_json.push_back(study_json(s));

  nlohmann::json out{{"exam", to_json(**exam)},
                     {"order", optional_json(order)},
                     {"report", optional_json(*report)},
                     {"qc", optional_json(*qc)},
                     {"ris_pacs_links", std::move(links)},
                     {"study_uids", uids},
                     {"study", studies_json.empty() ? nlohmann::json(nullptr) : studies_json.front()},
                     {"studies", std::move(studies_json)}};
  return out;
}

Result<nlohmann::json> RecordService::list_exams(const std::string& institution,
                                                 const std::string& patient_id, std::int64_t limit,
                                                 std::int64_t offset) {
  return list_current(institution, "exam", index::LinkField::patient_id, patient_id, limit, offset, "exams");
}

Result<nlohmann::json> RecordService::list_tasks(const std::string& institution, const std::string& source,
                                                 std::int64_t limit, std::int64_t offset) {
  return list_current(institution, "collection_task", index::LinkField::source, source, limit, offset, "tasks");
}

Result<nlohmann::json> RecordService::list_current(const std::string& institution, const std::string& kind,
                                                   index::LinkField by, const std::string& value,
                                                   std::int64_t limit, std::int64_t offset, const char* key) {
  index::RecordQuery q;
  q.kind = kind;
  if (!value.empty()) {  // an empty filter lists them all
    q.by = by;
    q.value = value;
  }
  q.limit = limit;
  q.offset = offset;
  auto found = repo_.list_current(institution, q);
  if (!found) return std::move(found).error();
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& r : *found) arr.push_back(to_json(r));
  return nlohmann::json{{key, std::move(arr)}};
}

}  // namespace lightbox::hub::records
