#pragma once
// Stage 5: what the agent is doing, read from queue.db (read-only, safe while `run` runs) and
// printed for people or as JSON (the contract's `status --json` shape).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/queue/sqlite_queue.hpp"
#include "agent/sources/seen_store.hpp"

namespace lightbox::agent::report {

/// One reading of the queue and the sources.
struct Snapshot {
  queue::Counts counts;
  std::vector<queue::Item> recent_errors;  // newest first, at most 10
  std::vector<queue::Item> quarantined;    // newest first
  std::vector<sources::SourceState> sources;
  std::int64_t now_ms = 0;
};

/// Reads a snapshot from an open connection.
Result<Snapshot> read_snapshot(sqlite::Db& db, std::int64_t now_ms);
/// Opens `db_path` read-only and reads a snapshot; a missing file is an empty queue.
Result<Snapshot> read_snapshot(const std::string& db_path, std::int64_t now_ms);

/// The contract's JSON shape.
nlohmann::json to_json(const Snapshot& s);
/// A few aligned lines for an operator.
std::string to_text(const Snapshot& s);

}  // namespace lightbox::agent::report
