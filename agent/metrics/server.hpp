#pragma once
// A tiny plain-HTTP server for `GET /metrics` on a loopback port, on its own thread. It only
// calls `render` (which reads queue.db read-only and the in-memory counters): it never blocks
// the pipeline, and a slow or stuck client only holds its own connection (5 s deadline).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "agent/metrics/listen.hpp"
#include "common/error/result.hpp"
#include "common/log/logger.hpp"

namespace lightbox::agent::metrics {

/// The running metrics endpoint. Destroying it stops and joins its thread.
class Server {
 public:
  using Render = std::function<std::string()>;

  /// Binds `at` and starts serving; an address in use is an error naming it.
  static Result<std::unique_ptr<Server>> start(const Endpoint& at, Render render, log::Logger& log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// The bound port (useful when `at.port` was 0).
  std::uint16_t port() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The reply to one request head ("GET /metrics HTTP/1.1\r\n..."): status line, headers and body.
/// Pure; unit-tested. `render` is called only for GET/HEAD /metrics.
std::string respond(const std::string& request_head, const Server::Render& render);

}  // namespace lightbox::agent::metrics
