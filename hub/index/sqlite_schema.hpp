#pragma once
// The index's SQLite schema, created on open. Studies, series and instances are kept per
// institution: each institution's view of what it sent; object bytes are shared by hash.
#include <string_view>

namespace lightbox::hub::index {

inline constexpr std::string_view kSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS institutions (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS agents (
  id TEXT PRIMARY KEY,
  institution TEXT NOT NULL REFERENCES institutions(id),
  token_sha256 TEXT NOT NULL UNIQUE,
  revoked INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS operators (
  name TEXT PRIMARY KEY,
  token_sha256 TEXT NOT NULL UNIQUE,
  revoked INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS objects (
  sha256 TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  kind TEXT NOT NULL,
  content_type TEXT NOT NULL,
  filename TEXT NOT NULL DEFAULT '',
  stored_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS object_senders (
  sha256 TEXT NOT NULL REFERENCES objects(sha256),
  institution TEXT NOT NULL,
  agent TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT '',
  first_at TEXT NOT NULL,
  PRIMARY KEY (sha256, institution, agent)
);
CREATE INDEX IF NOT EXISTS object_senders_by_institution ON object_senders(institution, sha256);
CREATE TABLE IF NOT EXISTS studies (
  institution TEXT NOT NULL,
  study_uid TEXT NOT NULL,
  patient_id TEXT NOT NULL DEFAULT '',
  patient_name TEXT NOT NULL DEFAULT '',
  study_date TEXT NOT NULL DEFAULT '',
  study_time TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  accession_number TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL,
  PRIMARY KEY (institution, study_uid)
);
CREATE INDEX IF NOT EXISTS studies_by_patient ON studies(institution, patient_id);
CREATE TABLE IF NOT EXISTS series (
  institution TEXT NOT NULL,
  series_uid TEXT NOT NULL,
  study_uid TEXT NOT NULL,
  modality TEXT NOT NULL DEFAULT '',
  series_number INTEGER NOT NULL DEFAULT 0,
  description TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (institution, series_uid)
);
CREATE INDEX IF NOT EXISTS series_by_study ON series(institution, study_uid);
CREATE TABLE IF NOT EXISTS instances (
  institution TEXT NOT NULL,
  sop_instance_uid TEXT NOT NULL,
  series_uid TEXT NOT NULL,
  study_uid TEXT NOT NULL,
  sop_class_uid TEXT NOT NULL DEFAULT '',
  instance_number INTEGER NOT NULL DEFAULT 0,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  transfer_syntax_uid TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (institution, sop_instance_uid)
);
CREATE INDEX IF NOT EXISTS instances_by_series ON instances(institution, series_uid);
CREATE INDEX IF NOT EXISTS instances_by_study ON instances(institution, study_uid);
CREATE INDEX IF NOT EXISTS instances_by_sha ON instances(sha256);
PRAGMA user_version = 1;
)sql";

}  // namespace lightbox::hub::index
