#include "hub/ingest/pipeline.hpp"

#include "common/dicom/verify.hpp"

namespace lightbox::hub::ingest {

Result<std::unique_ptr<Upload>> Pipeline::begin(PutRequest req) {
  if (!hash::is_sha256_hex(req.sha256))
    return fail(Errc::invalid_argument, "object name must be 64 lowercase hex characters", "sha256");
  auto file = fsio::AtomicFile::create_in(store_.staging_dir());
  if (!file) return std::move(file).error();
  return std::unique_ptr<Upload>(new Upload(*this, std::move(req), std::move(*file)));
}

Result<wire::Receipt> Pipeline::put(PutRequest req, std::string_view body) {
  auto up = begin(std::move(req));
  if (!up) return std::move(up).error();
  if (auto s = (*up)->write(body); !s) return std::move(s).error();
  return (*up)->finish();
}

Status Upload::write(const void* data, std::size_t n) {
  if (!failed_) return failed_;
  if (file_.size() + n > pipeline_.max_body_bytes_) {
    failed_ = fail(Errc::payload_too_large,
                   "body exceeds the limit of " + std::to_string(pipeline_.max_body_bytes_) + " bytes");
    return failed_;
  }
  hash_.update(data, n);
  if (auto s = file_.write(data, n); !s) failed_ = std::move(s);
  return failed_;
}

Result<wire::Receipt> Upload::finish() {
  auto r = finish_checked();
  if (!r) file_.abandon();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_)
                .count();
  auto& log = pipeline_.log_;
  if (r) {
    log.debug("hub.ingest", "object received",
              {{"sha256", req_.sha256},
               {"outcome", wire::to_string(r->outcome)},
               {"size", r->size},
               {"institution", req_.institution},
               {"agent", req_.agent},
               {"ms", ms}});
  } else {
    log.warn("hub.ingest", "object refused",
             {{"sha256", req_.sha256},
              {"error", errc_name(r.error().code)},
              {"message", r.error().message},
              {"institution", req_.institution},
              {"agent", req_.agent},
              {"ms", ms}});
  }
  return r;
}

Result<wire::Receipt> Upload::finish_checked() {
  if (!failed_) return failed_.error();
  std::string actual = hash_.finish_hex();
  if (actual != req_.sha256)
    return fail(Errc::hash_mismatch, "body hashes to " + actual + ", not to the name it was sent under",
                "sha256");

  index::ObjectRecord rec;
  rec.sha256 = req_.sha256;
  rec.size = file_.size();
  rec.kind = req_.kind;
  rec.filename = req_.filename;
  rec.source = req_.source;
  rec.institution = req_.institution;
  rec.agent = req_.agent;
  if (req_.kind == wire::ObjectKind::dicom) {
    rec.content_type = "application/dicom";
    // The hub re-checks every DICOM object; lossy images are accepted here (the agent's policy
    // decides whether to send them).
    dicom::VerifyPolicy policy;
    policy.allow_lossy = true;
    auto verdict = dicom::verify_file(file_.temp_path(), policy);
    if (!verdict.accepted) return fail(Errc::rejected, verdict.reason_code + ": " + verdict.reason);
    if (!verdict.facts.study_instance_uid.empty() && !verdict.facts.sop_instance_uid.empty())
      rec.dicom = std::move(verdict.facts);
  } else {
    rec.content_type = req_.content_type.empty() ? "application/octet-stream" : req_.content_type;
  }

  // Durability order: bytes durable under their hash first, then the index row, then the receipt.
  // A crash in between leaves an unindexed file that the retry re-indexes (the index decides
  // Stored vs AlreadyStored) and that GET never serves.
  auto& store = pipeline_.store_;
  if (auto s = store.put(req_.sha256, std::move(file_)); !s) return std::move(s).error();
  auto recorded = pipeline_.repo_.record_object(rec);
  if (!recorded) return std::move(recorded).error();

  wire::Receipt receipt;
  receipt.sha256 = rec.sha256;
  receipt.outcome = recorded->outcome;
  receipt.size = rec.size;
  receipt.kind = rec.kind;
  receipt.stored_at = recorded->stored_at;
  if (rec.dicom) {
    receipt.study_uid = rec.dicom->study_instance_uid;
    receipt.series_uid = rec.dicom->series_instance_uid;
    receipt.sop_instance_uid = rec.dicom->sop_instance_uid;
  }
  return receipt;
}

}  // namespace lightbox::hub::ingest
