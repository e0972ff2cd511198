#pragma once
// HTTPS client over libcurl. One Client owns one easy handle, so connections to the hub are
// reused between requests; give each thread its own Client.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error/result.hpp"
#include "common/log/logger.hpp"

namespace lightbox::http {

/// Process-wide libcurl initialisation. Build exactly one in main()/the composition root,
/// before any Client and before threads start.
class GlobalInit {
 public:
  GlobalInit();
  ~GlobalInit();
  GlobalInit(const GlobalInit&) = delete;
  GlobalInit& operator=(const GlobalInit&) = delete;
};

/// How to reach one server.
struct ClientOptions {
  std::string base_url;                 // "https://hub:8443", no trailing slash needed
  std::string ca_file;                  // PEM bundle; empty = system store
  std::string client_cert_file;         // PEM client certificate for mutual TLS; empty = none
  std::string client_key_file;          // PEM private key of client_cert_file
  log::Secret token;                    // sent as "Authorization: Bearer" when authenticate=true
  long connect_timeout_seconds = 10;
  long timeout_seconds = 300;           // whole request
  std::vector<std::pair<std::string, std::string>> headers;  // sent with every request
  std::function<bool()> cancelled;      // polled by curl's progress callback; true aborts
};

/// A response with a status line. Bodies are capped (kMaxBody) since only JSON is expected.
struct Response {
  long status = 0;
  std::string body;
  std::optional<std::int64_t> retry_after_seconds;  // from a numeric Retry-After header
};

/// One connection's worth of requests. Not thread-safe.
class Client {
 public:
  static constexpr std::size_t kMaxBody = 1 << 20;

  explicit Client(ClientOptions opts);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// GET base_url + path. Transport failures are errors; any HTTP status is a Response.
  Result<Response> get(const std::string& path, bool authenticate = true);
  /// Any `method` with a small in-memory `body` (JSON, form). With an empty base_url, `path` is
  /// the whole URL (alert channels post to many servers). A Content-Type header defaults to
  /// application/json when `body` is not empty.
  Result<Response> send(const std::string& method, const std::string& path, const std::string& body,
                        const std::vector<std::pair<std::string, std::string>>& headers = {},
                        bool authenticate = true);

  /// PUT base_url + path with the body streamed from `file_path` (never loaded whole).
  /// By default the body follows the headers at once (an empty `Expect:` avoids curl's wait for
  /// "100 Continue"); with `ask_first` the server may refuse before any body byte is sent.
  /// `on_read` (optional) is called with the size of each body chunk read from the file before
  /// it goes out (chunks of at most kReadChunk bytes); it may block (a bandwidth cap), and
  /// returning false aborts the transfer as cancelled.
  Result<Response> put_file(const std::string& path, const std::string& file_path,
                            const std::vector<std::pair<std::string, std::string>>& headers,
                            bool ask_first = false, const std::function<bool(std::size_t)>& on_read = {});

  /// POST base_url + path with the body streamed from `file_path` (a records batch); same
  /// contract as put_file otherwise.
  Result<Response> post_file(const std::string& path, const std::string& file_path,
                             const std::vector<std::pair<std::string, std::string>>& headers,
                             const std::function<bool(std::size_t)>& on_read = {});

  static constexpr std::size_t kReadChunk = 64 * 1024;

 private:
  /// PUT (upload) or POST of a file's bytes, streamed; put_file/post_file are the public faces.
  Result<Response> send_file(bool post, const std::string& path, const std::string& file_path,
                             const std::vector<std::pair<std::string, std::string>>& headers, bool ask_first,
                             const char* default_type, const std::function<bool(std::size_t)>& on_read_hook);
  Result<Response> perform(void* header_list);
  void* prepare(const std::string& path, bool authenticate,
                const std::vector<std::pair<std::string, std::string>>& extra, bool ask_first = false);

  ClientOptions opts_;
  void* curl_;  // CURL*, opaque so callers don't include curl.h
};

/// Percent-encodes a header value's control characters away (file names may be anything).
std::string header_safe(const std::string& v);

}  // namespace lightbox::http
