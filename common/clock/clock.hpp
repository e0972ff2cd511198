#pragma once
// Wall-clock time as the project writes it: Unix milliseconds inside, ISO-8601 UTC text outside
// (JSON bodies, logs, reports). One place, so every timestamp in the system reads the same.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lightbox::clock {

/// Now, in Unix milliseconds (system clock).
std::int64_t now_ms();
/// "2026-11-28T02:40:00.123Z".
std::string iso_utc_ms(std::int64_t unix_ms);
/// "2026-11-28T02:40:00Z" (whole seconds, truncated).
std::string iso_utc(std::int64_t unix_ms);
/// "2026-11-28" (the UTC day).
std::string utc_date(std::int64_t unix_ms);
/// "20261128T024000Z": for file names.
std::string compact_utc(std::int64_t unix_ms);
/// Parses "YYYY-MM-DDTHH:MM:SS[.fff]Z" (what the functions above write) into Unix ms; nullopt otherwise.
std::optional<std::int64_t> parse_iso_utc(std::string_view text);

}  // namespace lightbox::clock
