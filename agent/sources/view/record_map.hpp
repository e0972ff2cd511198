#pragma once
// Pure parts of the view source (no ODBC): values read from a row, the column map that turns a
// row into a canonical record, the record's content hash, and the (timestamp, key) watermark.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error/result.hpp"

namespace lightbox::agent::sources::view {

/// A calendar timestamp as ODBC gives it (no time zone: the database's own clock).
struct Timestamp {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  std::uint32_t fraction_ns = 0;

  /// Seconds since 1970-01-01 as if the fields were UTC (only differences matter).
  std::int64_t epoch_seconds() const;
  /// The inverse of epoch_seconds (fraction_ns = 0).
  static Timestamp from_epoch_seconds(std::int64_t s);
  /// "2026-11-28T08:00:00" plus ".123456" (microseconds, trailing zeros cut) when there is a fraction.
  std::string iso() const;
  /// Parses "YYYY-MM-DD[ T]HH:MM:SS[.fff...]" (the form iso() writes, and SQL's).
  static std::optional<Timestamp> parse(const std::string& s);
  /// This moment minus `seconds` (the look-back), keeping the fraction.
  Timestamp minus_seconds(std::int64_t seconds) const;
  auto operator<=>(const Timestamp&) const = default;
};

/// One value read from a row.
struct Value {
  enum class Type { null, text, integer, timestamp };
  Type type = Type::null;
  std::string text;         // UTF-8 for text
  std::int64_t integer = 0;
  Timestamp ts;

  /// JSON form in a record: null, string, number, or ISO timestamp string.
  nlohmann::json to_json() const;
  /// Text form for keys and versions ("" for null).
  std::string to_string() const;
};

/// How rows become canonical records (`map` in the source config).
struct RecordMap {
  std::string record_kind;                            // "exam", "report", ...
  std::string key_column;                             // map.key
  std::string version_column;                         // map.version
  std::vector<std::pair<std::string, std::string>> fields;  // record field -> column
};

/// Where each mapped column sits in the result set (found case-insensitively).
struct ColumnIndex {
  std::size_t key = 0, version = 0;
  std::vector<std::size_t> fields;  // same order as RecordMap::fields
};

/// Finds the map's columns among `names`; an error lists every missing column by name.
Result<ColumnIndex> index_columns(const RecordMap& m, const std::vector<std::string>& names);

/// A mapped row: the canonical record and the hash of its canonical JSON.
struct MappedRecord {
  std::string key;
  nlohmann::json record;  // {"kind","key","version","fields"}
  std::string hash;       // sha256 hex of record.dump() (keys sorted, so stable)
};

/// Maps one row; a row without a key or version is an error (the caller skips and counts it).
Result<MappedRecord> map_row(const RecordMap& m, const ColumnIndex& ix, const std::vector<Value>& row);

/// SHA-256 hex of a record's canonical JSON text.
std::string record_hash(const nlohmann::json& record);

/// The persisted cursor: the last (timestamp, key) read, in (timestamp, key) order.
struct Watermark {
  Timestamp ts;
  std::string key;

  /// {"ts":"2026-11-28T08:00:00","key":"E123"}
  std::string to_json_text() const;
  /// Empty text = no watermark yet; malformed text is an error.
  static Result<std::optional<Watermark>> parse(const std::string& text);
  /// The lower bound of the next poll: ts minus the look-back, minus one more second with the
  /// fraction dropped, so rows at the watermark itself are re-read (and de-duplicated) even by
  /// drivers that compare timestamps as text ("...:42" < "...:42.000") or round fractions.
  Timestamp lower_bound(std::int64_t lookback_seconds) const {
    Timestamp t = ts.minus_seconds(lookback_seconds + 1);
    t.fraction_ns = 0;
    return t;
  }
  auto operator<=>(const Watermark&) const = default;
};

/// Serialises a batch of records in the wire format: {"records":[...]}.
std::string batch_json(const std::vector<nlohmann::json>& records);

}  // namespace lightbox::agent::sources::view
