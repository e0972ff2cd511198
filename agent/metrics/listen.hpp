#pragma once
// `metrics.listen`: "HOST:PORT" on a loopback address only. The metrics port has no
// authentication, so it must never be reachable from the hospital network.
#include <cstdint>
#include <string>

#include "common/error/result.hpp"

namespace lightbox::agent::metrics {

/// A parsed loopback listen address.
struct Endpoint {
  std::string host;        // "127.0.0.1", "::1" (no brackets) or "localhost"
  std::uint16_t port = 0;  // 0 = any free port (tests)
};

/// Parses "127.0.0.1:9464", "[::1]:9464" or "localhost:9464"; anything not loopback is an error
/// whose message says why (the caller adds the key path).
Result<Endpoint> parse_listen(const std::string& text);

}  // namespace lightbox::agent::metrics
