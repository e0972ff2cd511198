#pragma once
// The HTTPS front door: Boost.Beast on Asio, TLS 1.2+, HTTP/1.1 keep-alive, streaming request
// bodies, header/idle timeouts, a connection cap, and a graceful drain on stop.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/error/result.hpp"
#include "common/log/logger.hpp"
#include "hub/http/api.hpp"

namespace lightbox::hub::http {

/// Listener, TLS and limits; filled by the composition root from the hub config.
struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8443;
  std::string cert_file;
  std::string key_file;
  // PEM CA that signs agents' client certificates (enrollment). When set, the handshake asks for
  // an optional client certificate and verifies it against this CA; empty = no client certs.
  std::string client_ca_file;
  std::uint64_t max_body_bytes = 4294967296ULL;
  int header_timeout_seconds = 30;
  int idle_timeout_seconds = 120;
  int max_connections = 512;
  int threads = 1;           // io threads
  int blocking_threads = 8;  // threads for fsync / index commits / reads
  int shutdown_grace_seconds = 20;
  // Called once when the drain begins (alerting pauses: agents cannot beat while the hub stops).
  std::function<void()> on_stop;
};

/// Loads the certificate chain and key and checks that they match (used by `check` too).
Status check_tls_files(const std::string& cert_file, const std::string& key_file);

/// The HTTPS server. start() binds, run() serves until stop() or SIGTERM/SIGINT and the drain.
class Server {
 public:
  Server(const ServerOptions& opts, Api& api, log::Logger& log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Loads TLS and binds the listening socket.
  Status start();
  /// Port actually bound (useful with port 0).
  std::uint16_t port() const;
  /// Serves until stopped; handles SIGTERM/SIGINT when `handle_signals`. Blocks.
  void run(bool handle_signals = true);
  /// Asks the server to stop: no new connections, in-flight requests finish within the grace.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lightbox::hub::http
