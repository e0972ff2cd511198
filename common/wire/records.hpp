#pragma once
// The records half of the agent <-> hub wire contract: canonical records (DESIGN.md), the batch
// an agent POSTs to /api/v1/records, and the hub's answer with per-record rejections.
//
//   request  POST /api/v1/records, header X-Lightbox-Batch: <sha256 of the body>
//            {"records":[{"kind":"exam","key":"E123","version":"2026-11-28T08:00:00Z","fields":{...}}]}
//   answer   200 {"sha256":"<batch hash>","outcome":"Stored","stored":n,"already_stored":n,
//                 "rejected":[{"index":i,"kind":"exam","key":"E123","error":"invalid_argument",
//                              "message":"...","field":"fields.performed"}]}
// The institution is never in the body: the hub takes it from the credential.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error/result.hpp"
#include "common/wire/protocol.hpp"

namespace lightbox::wire {

inline constexpr std::string_view kRecordsPath = "/api/v1/records";
inline constexpr std::string_view kExamsPath = "/api/v1/exams";
inline constexpr std::string_view kTasksPath = "/api/v1/tasks";
/// Request header carrying the SHA-256 (lowercase hex) of a records batch body.
inline constexpr std::string_view kHeaderBatch = "X-Lightbox-Batch";
/// Largest records batch body the hub accepts (413 above): agents cut their batches below it.
inline constexpr std::uint64_t kMaxRecordsBatchBytes = 32ull << 20;

/// Every record kind the hub accepts: the 13 collection objects plus the agent's task reports.
inline constexpr std::array<std::string_view, 14> kRecordKinds = {
    "order",   "exam",          "report", "report_indicator", "series",   "report_image", "media_server",
    "patient", "ris_pacs_link", "qc",     "authorization",    "citation", "recognition",  "collection_task"};

/// True when `kind` is one of kRecordKinds.
bool is_record_kind(std::string_view kind);

/// One canonical record. (kind, key, version) identifies it within an institution; versions
/// compare as plain byte strings, so ISO-8601 UTC times sort correctly.
struct Record {
  std::string kind;
  std::string key;
  std::string version;
  nlohmann::json fields = nlohmann::json::object();

  /// {"kind","key","version","fields"}.
  nlohmann::json to_json() const;
  /// Strict shape check only (strings, non-empty, fields an object); the error's field names
  /// the offending member ("key", "fields"). Per-kind rules are the hub's (hub/records).
  static Result<Record> from_json(const nlohmann::json& j);
};

/// The batch body: {"records":[...]}.
nlohmann::json batch_to_json(const std::vector<Record>& records);

/// Why one record of a batch was not stored.
struct RecordRejection {
  std::uint64_t index = 0;  // position in the batch's "records" array
  std::string kind;
  std::string key;
  std::string error;  // errc_name, e.g. "invalid_argument" or "conflict"
  std::string message;
  std::string field;  // "fields.performed", "version"...; empty = null in JSON

  nlohmann::json to_json() const;
  static RecordRejection from_json(const nlohmann::json& j);
};

/// The hub's durable answer to a batch: everything not rejected is committed. The agent marks
/// its item done when `sha256` equals the hash it sent.
struct BatchAnswer {
  std::string sha256;
  StoreOutcome outcome = StoreOutcome::Stored;
  std::uint64_t stored = 0;
  std::uint64_t already_stored = 0;
  std::vector<RecordRejection> rejected;

  nlohmann::json to_json() const;
  static Result<BatchAnswer> from_json(const nlohmann::json& j);
};

}  // namespace lightbox::wire
