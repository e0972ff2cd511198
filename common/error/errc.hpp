#pragma once
// The project's one error vocabulary: an enum, its std::error_category, and the single table
// that maps each code to an HTTP status and a stable machine-readable name.
#include <string>
#include <string_view>
#include <system_error>

#include <nlohmann/json_fwd.hpp>

namespace lightbox {

/// Every expected failure in Lightbox, agent and hub alike.
enum class Errc {
  ok = 0,
  invalid_argument,    // a request or value is malformed
  invalid_config,      // config failed validation
  not_found,
  unauthorized,        // no or bad credential
  forbidden,           // credential valid, action not allowed
  conflict,
  hash_mismatch,       // body did not hash to the name it was sent under
  payload_too_large,
  unsupported_media,
  rejected,            // content failed verification (DICOM rules)
  storage_full,        // ENOSPC / quota
  io_error,
  db_error,
  network,             // connection refused, reset, DNS, TLS handshake
  timeout,
  busy,                // retry later (429 / 503)
  upstream,            // the peer answered with a 5xx
  cancelled,
  internal,
};

const std::error_category& lightbox_category() noexcept;
std::error_code make_error_code(Errc e) noexcept;

/// Stable snake_case name used in JSON bodies and logs ("hash_mismatch").
std::string_view errc_name(Errc e) noexcept;
/// Parses a name produced by errc_name; unknown names map to Errc::internal.
Errc errc_from_name(std::string_view name) noexcept;
/// HTTP status the hub answers with for this code.
int http_status(Errc e) noexcept;
/// Code an HTTP client should assume for a status without a usable body.
Errc errc_from_http_status(int status) noexcept;
/// True when retrying the same operation later may succeed (network, 5xx, busy, full disk).
bool is_transient(Errc e) noexcept;

/// An expected failure: what kind, a human sentence, and the field or key it concerns.
struct Error {
  Errc code = Errc::internal;
  std::string message;
  std::string field;

  /// {"error": name, "message": ..., "field": ...} — the body of every 4xx/5xx.
  nlohmann::json to_json() const;
  static Error from_json(const nlohmann::json& j);
  std::string to_string() const;
};

}  // namespace lightbox

template <>
struct std::is_error_code_enum<lightbox::Errc> : std::true_type {};
