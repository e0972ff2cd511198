#pragma once
// One agent heartbeat as the hub sees it (validated body + who/when), and the health rule:
// offline (no beat for 3 intervals), degraded (a source error, disk full or < 10 % free, backlog
// growing over the last 3 beats, errors since the last beat), else healthy. Pure; no I/O.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error/result.hpp"

namespace lightbox::hub::fleet {

/// A validated heartbeat plus what the hub adds on receipt.
struct Beat {
  std::string agent;
  std::string institution;
  std::int64_t received_ms = 0;  // hub clock, unix ms
  std::int64_t agent_clock_ms = 0;
  std::int64_t interval_s = 30;
  std::int64_t backlog_bytes = 0;
  std::int64_t errors = 0;  // sum of error counts since the agent's previous beat
  std::int64_t uploaded_items = 0;
  std::int64_t uploaded_bytes = 0;
  std::int64_t spool_total = 0;
  std::int64_t spool_free = 0;
  bool disk_full = false;
  std::vector<std::string> failing_sources;  // "name: last_error"
  nlohmann::json body;                       // as sent

  /// Hub receive time minus the agent's clock, in seconds.
  double clock_offset_s() const { return static_cast<double>(received_ms - agent_clock_ms) / 1000.0; }
};

/// Validates a heartbeat body; invalid_argument naming the field (e.g. "spool.free_bytes").
Result<Beat> parse_heartbeat(const nlohmann::json& body);

/// An agent's computed health.
enum class Health { healthy, degraded, offline };
/// "healthy" | "degraded" | "offline".
const char* health_name(Health h);

/// The health and why.
struct Assessment {
  Health status = Health::offline;
  std::vector<std::string> reasons;
};

/// Health from an agent's most recent beats (newest first; empty = never seen) at hub time `now_ms`.
Assessment assess(const std::vector<Beat>& recent, std::int64_t now_ms);

}  // namespace lightbox::hub::fleet
