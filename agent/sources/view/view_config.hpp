#pragma once
// Typed config of a `view` source and the SQL it runs. Only SELECT is ever built or accepted.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/sources/view/odbc.hpp"
#include "agent/sources/view/record_map.hpp"
#include "common/config/reader.hpp"
#include "common/log/logger.hpp"

namespace lightbox::agent::sources::view {

/// The record kinds a view may produce (DESIGN.md "Canonical records").
const std::vector<std::string>& record_kinds();

/// sources[i] of kind "view".
struct ViewConfig {
  std::string name;
  std::int64_t poll_seconds = 60;
  std::string connection_string;  // "DSN=..." or a driver connection string
  log::Secret username;
  log::Secret password;
  std::string view;                  // table or view name; or
  std::vector<std::string> columns;  // with `view`: the columns to read (default: the mapped ones)
  std::string select;                // a full SELECT instead of `view`
  std::string timestamp_column = "updated_at";
  std::string key_column;            // default: map.key
  std::int64_t lookback_seconds = 300;
  RecordMap map;
  std::int64_t batch_rows = 500;
  std::int64_t max_records_per_poll = 50000;  // a first load is collected in slices of this size
  TextMode text = TextMode::wide;
  std::int64_t timeout_seconds = 15;
};

/// Reads the view-specific keys (name and poll_seconds come in `base`); every problem names its
/// full path ("sources[1].map.fields.performed must be a column name").
ViewConfig parse_view_config(config::Node& n, ViewConfig base);

/// Why `sql` is not a single read-only SELECT, or nullopt when it is. Skips string literals,
/// quoted identifiers and comments; refuses a second statement, SELECT ... INTO, FOR UPDATE and
/// every data-changing or DDL keyword.
std::optional<std::string> why_not_read_only(const std::string& sql);

/// True for a plain or schema-qualified identifier, optionally quoted ("a b", [a b], `a`).
bool is_identifier(const std::string& s);

/// The SELECT of one poll: with a watermark `WHERE ts >= ?`, otherwise `WHERE ts IS NOT NULL`;
/// always `ORDER BY ts, key` so the watermark only moves forward.
std::string poll_sql(const ViewConfig& c, bool with_watermark);
/// For `check`: all columns of the view (or select) and no rows; prepared and described only.
std::string probe_sql(const ViewConfig& c);

}  // namespace lightbox::agent::sources::view
