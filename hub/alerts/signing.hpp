#pragma once
// The small crypto and encoding pieces robot and SMS gateways ask for: HMAC-SHA256 (OpenSSL),
// base64, hex, and URL encoding.
#include <string>
#include <string_view>

namespace lightbox::hub::alerts {

/// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view data);
/// Standard base64 with padding.
std::string base64(std::string_view bytes);
/// Lowercase hex.
std::string hex(std::string_view bytes);
/// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view s);

}  // namespace lightbox::hub::alerts
