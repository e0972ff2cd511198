#pragma once
// The agent <-> hub wire contract: paths, headers and the JSON receipt. Both programs build
// and parse these types; docs/api.md and docs/openapi.yaml describe the same thing for people.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error/result.hpp"

namespace lightbox::wire {

inline constexpr std::string_view kObjectsPath = "/api/v1/objects/";  // + sha256
inline constexpr std::string_view kStudiesPath = "/api/v1/studies";
inline constexpr std::string_view kHealthPath = "/healthz";

/// Request headers an agent sends with an object.
inline constexpr std::string_view kHeaderKind = "X-Lightbox-Kind";          // "dicom" | "attachment"
inline constexpr std::string_view kHeaderAgent = "X-Lightbox-Agent";        // must match the credential
inline constexpr std::string_view kHeaderSource = "X-Lightbox-Source";      // source name, for audit
inline constexpr std::string_view kHeaderFilename = "X-Lightbox-Filename";  // original file name

/// What an object is; the hub checks DICOM objects before it answers.
enum class ObjectKind { dicom, attachment };
std::string_view to_string(ObjectKind k);
std::optional<ObjectKind> parse_object_kind(std::string_view s);

/// Outcome of an idempotent store (after Orthanc's StoreStatus).
enum class StoreOutcome { Stored, AlreadyStored, Rejected, StorageFull };
std::string_view to_string(StoreOutcome o);
std::optional<StoreOutcome> parse_store_outcome(std::string_view s);

/// The hub's durable receipt for one object. The agent deletes its spool copy only when
/// `sha256` equals what it sent and `outcome` is Stored or AlreadyStored.
struct Receipt {
  std::string sha256;
  StoreOutcome outcome = StoreOutcome::Stored;
  std::uint64_t size = 0;
  ObjectKind kind = ObjectKind::dicom;
  std::string stored_at;      // ISO-8601 UTC, when the hub first stored the bytes
  std::string study_uid;      // DICOM objects only
  std::string series_uid;
  std::string sop_instance_uid;

  nlohmann::json to_json() const;
  static Result<Receipt> from_json(const nlohmann::json& j);
};

}  // namespace lightbox::wire
