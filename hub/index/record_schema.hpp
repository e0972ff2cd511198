#pragma once
// The records tables of the index (same database as sqlite_schema.hpp). `records` keeps every
// version as sent; `record_heads` points at the current (greatest) version of each (kind, key)
// and copies the few fields other records are joined on, so lookups need no JSON parsing.
#include <string_view>

namespace lightbox::hub::index {

inline constexpr std::string_view kRecordSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS records (
  institution TEXT NOT NULL,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  version TEXT NOT NULL,
  fields TEXT NOT NULL,
  received_at TEXT NOT NULL,
  agent TEXT NOT NULL,
  PRIMARY KEY (institution, kind, key, version)
);
CREATE TABLE IF NOT EXISTS record_heads (
  institution TEXT NOT NULL,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  version TEXT NOT NULL,
  received_at TEXT NOT NULL,
  patient_id TEXT NOT NULL DEFAULT '',
  accession_number TEXT NOT NULL DEFAULT '',
  study_uid TEXT NOT NULL DEFAULT '',
  exam_key TEXT NOT NULL DEFAULT '',
  report_key TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (institution, kind, key)
);
CREATE INDEX IF NOT EXISTS record_heads_by_received ON record_heads(institution, kind, received_at);
CREATE INDEX IF NOT EXISTS record_heads_by_patient ON record_heads(institution, kind, patient_id);
CREATE INDEX IF NOT EXISTS record_heads_by_accession ON record_heads(institution, kind, accession_number);
CREATE INDEX IF NOT EXISTS record_heads_by_study ON record_heads(institution, kind, study_uid);
CREATE INDEX IF NOT EXISTS record_heads_by_exam ON record_heads(institution, kind, exam_key);
CREATE INDEX IF NOT EXISTS record_heads_by_report ON record_heads(institution, kind, report_key);
CREATE INDEX IF NOT EXISTS record_heads_by_source ON record_heads(institution, kind, source);
CREATE INDEX IF NOT EXISTS studies_by_accession ON studies(institution, accession_number);
)sql";

}  // namespace lightbox::hub::index
