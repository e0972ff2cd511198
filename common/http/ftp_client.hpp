#pragma once
// FTP and FTPS over libcurl, for the agent's `ftp` source. One FtpClient owns one easy handle,
// so the control connection (and the TLS session) is reused between operations. Every path it
// takes is absolute on the server ("/home/edge/outbox/a.dcm"); no operation depends on a
// current directory left behind by another.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/error/result.hpp"
#include "common/log/logger.hpp"

namespace lightbox::http {

/// How the FTP control and data connections are protected.
enum class FtpTls {
  none,       // plain FTP
  explicit_,  // AUTH TLS on the plain port, then PROT P (required: never falls back to plain)
  implicit,   // TLS from the first byte (ftps://, usually port 990)
};

/// How to reach and log in to one FTP server.
struct FtpOptions {
  std::string host;  // host name or address
  int port = 21;
  FtpTls tls = FtpTls::none;
  std::string ca_file;  // PEM bundle that signed the server's certificate; empty = system store
  std::string username;
  log::Secret password;
  bool passive = true;  // false = active mode (PORT/EPRT from the control connection's address)
  long connect_timeout_seconds = 15;
  long timeout_seconds = 600;       // one whole operation (a download)
  std::function<bool()> cancelled;  // polled during transfers; true aborts
};

/// One server reply to one command: every line, the last one starting with the 3-digit code.
struct FtpReply {
  int code = 0;  // 0 = the command was not answered (an earlier one failed the session)
  std::vector<std::string> lines;
};

/// One FTP session. Not thread-safe: give each thread its own.
class FtpClient {
 public:
  explicit FtpClient(FtpOptions opts);
  ~FtpClient();
  FtpClient(const FtpClient&) = delete;
  FtpClient& operator=(const FtpClient&) = delete;

  /// "ftp://host:port" (or ftps://), for messages.
  std::string where() const;
  /// Logs in (or reuses the open session) and returns the login directory ("/home/edge").
  Result<std::string> login();
  /// Sends each command on the control connection and returns one reply per command. A
  /// command the server refuses is not an error (look at its code); login or connection
  /// failures are. Commands must not contain CR or LF.
  Result<std::vector<FtpReply>> commands(const std::vector<std::string>& cmds);
  /// Lists an absolute directory: the raw text of LIST, or of MLSD when `mlsd`.
  Result<std::string> list(const std::string& abs_dir, bool mlsd);
  /// Downloads an absolute path into `local_path` (created or truncated); returns its size.
  Result<std::uint64_t> download(const std::string& abs_path, const std::string& local_path);

 private:
  void prepare(const std::string& url_path);
  Error error_for(int rc, const std::string& detail, const std::string& what) const;

  FtpOptions opts_;
  void* curl_;  // CURL*, opaque so callers don't include curl.h
};

/// Percent-encodes a path for a URL, keeping '/' (and nothing else that has a meaning).
std::string url_escape_path(const std::string& path);

}  // namespace lightbox::http
