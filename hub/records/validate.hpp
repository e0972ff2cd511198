#pragma once
// Per-kind rules for canonical records: which fields are required and what type each known
// field has. Fields not named here are kept as sent (records stay source-faithful); data-quality
// rules across records (timeliness, workflow time order, completeness) belong to the audit stage.
#include <string_view>

#include "common/error/result.hpp"
#include "common/wire/records.hpp"

namespace lightbox::hub::records {

/// Longest accepted key and version (bytes).
inline constexpr std::size_t kMaxKeyBytes = 256;
inline constexpr std::size_t kMaxVersionBytes = 64;
/// Largest accepted `fields` object, serialized (bytes).
inline constexpr std::size_t kMaxFieldsBytes = 1 << 20;

/// Checks one record; the error's field is a path such as "fields.performed", "key" or "kind".
Status validate(const wire::Record& r);

/// True for "2026-11-28", "2026-11-28T08:00", "2026-11-28 08:00:00.123+08:00", "...Z".
bool is_iso_time(std::string_view s);

}  // namespace lightbox::hub::records
