#pragma once
// HTTP(S) downloads for the agent's `http` source: GET into a file with conditional headers
// (ETag / Last-Modified), basic or bearer auth, a configurable CA, and DELETE.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/error/result.hpp"
#include "common/log/logger.hpp"

namespace lightbox::http {

/// Credentials and TLS settings for one remote HTTP server.
struct FetchOptions {
  std::string ca_file;   // PEM bundle; empty = system store
  std::string username;  // basic auth when not empty
  log::Secret password;
  log::Secret bearer;    // "Authorization: Bearer" when not empty (and no username)
  long connect_timeout_seconds = 10;
  long timeout_seconds = 600;
  std::function<bool()> cancelled;  // polled during transfers; true aborts
};

/// What a GET answered. The body went to the file only when status == 200.
struct FetchResult {
  long status = 0;
  std::uint64_t bytes = 0;
  std::string etag;           // ETag header, as sent (quotes included)
  std::string last_modified;  // Last-Modified header, as sent
};

/// One connection's worth of downloads. Not thread-safe: give each thread its own.
class Fetcher {
 public:
  explicit Fetcher(FetchOptions opts);
  ~Fetcher();
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  /// GET `url` into `file_path` (created or truncated). Sends If-None-Match / If-Modified-Since
  /// when given, so an unchanged resource answers 304 without a body. Transport failures are
  /// errors (in plain words); any HTTP status is a result.
  Result<FetchResult> get_to_file(const std::string& url, const std::string& file_path,
                                  const std::string& if_none_match = {}, const std::string& if_modified_since = {});
  /// DELETE `url`; returns the HTTP status.
  Result<long> remove(const std::string& url);

 private:
  void prepare(const std::string& url);
  Error error_for(int rc, const std::string& detail, const std::string& url) const;

  FetchOptions opts_;
  void* curl_;  // CURL*
};

/// Parses an HTTP date (RFC 1123, also RFC 850 / asctime) to seconds since the epoch.
std::optional<std::int64_t> parse_http_date(const std::string& text);
/// Formats seconds since the epoch as an RFC 1123 date ("Sat, 28 Nov 2026 01:30:00 GMT").
std::string format_http_date(std::int64_t epoch_seconds);

}  // namespace lightbox::http
