#pragma once
// Plain request/response types between the Beast server and the API routes, so routing and
// handlers are testable without sockets or TLS.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error/result.hpp"

namespace lightbox::hub::http {

/// A parsed request head (the body, if any, is fed to a BodyHandler separately).
struct Request {
  std::string method;  // "GET", "PUT", ...
  std::string target;  // path and query, as sent
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::uint64_t> content_length;
  // Set by the TLS server when the client presented a certificate that verified against the hub
  // CA (enrollment): lowercase hex SHA-256 of its DER, and its serial. Empty otherwise.
  std::string peer_cert_sha256;
  std::string peer_cert_serial;

  /// Value of the first header called `name` (case-insensitive), or "" when absent.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  /// Path part of the target (before '?').
  std::string_view path() const;
  /// Query part of the target (after '?'), possibly empty.
  std::string_view query() const;
};

/// A response: a small in-memory body, or a local file streamed by the server.
struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string file_path;  // when set, the body is this file (file_size bytes)
  std::uint64_t file_size = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Cache-Control, CSP, ...)

  /// A JSON response.
  static Response json(int status, const nlohmann::json& j);
  /// The JSON error body for `e` with the status from the one Errc table.
  static Response error(const Error& e);
};

/// Receives the body of one request chunk by chunk, then produces the response.
class BodyHandler {
 public:
  virtual ~BodyHandler() = default;
  /// Consumes one chunk; an error ends the request with that error's response.
  virtual Status write(const char* data, std::size_t n) = 0;
  /// Called once the whole body arrived. May block (fsync, index commit).
  virtual Response finish() = 0;
};

/// What the router decided from the head alone: an immediate response, or a body handler.
struct Dispatch {
  std::optional<Response> response;
  std::unique_ptr<BodyHandler> body;
};

/// Decodes %XX and '+' in a query component.
std::string url_decode(std::string_view s);
/// Value of `key` in a query string (decoded), or nullopt.
std::optional<std::string> query_param(std::string_view query, std::string_view key);
/// Integer query parameter `key` within [min, max], `def` when absent; invalid_argument naming it.
Result<std::int64_t> int_param(std::string_view query, std::string_view key, std::int64_t def, std::int64_t min,
                               std::int64_t max);

}  // namespace lightbox::hub::http
