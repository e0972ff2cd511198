#pragma once
// unixODBC (or the system ODBC) behind a small type. Nothing outside this file pair includes
// sql.h; the rest of the view source sees columns, timestamps and UTF-8 strings.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/sources/view/record_map.hpp"
#include "common/error/result.hpp"

namespace lightbox::agent::sources::view {

/// How character data is read from the driver.
enum class TextMode {
  wide,  // SQL_C_WCHAR: the driver converts from the database's encoding; we turn UTF-16 into UTF-8
  gbk,   // SQL_C_CHAR bytes in GBK/GB18030 (ANSI drivers), converted to UTF-8 with iconv
  utf8,  // SQL_C_CHAR bytes already in UTF-8
};

/// Everything needed to open one connection.
struct ConnectOptions {
  std::string connection_string;  // "DSN=ris" or "Driver=...;Server=...;..."; secrets already substituted
  std::string username;           // added as UID= when not empty
  std::string password;           // added as PWD= when not empty
  std::int64_t timeout_seconds = 15;
  TextMode text = TextMode::wide;
};

/// A result column as the driver describes it.
struct ColumnInfo {
  std::string name;
  bool is_datetime = false;  // DATE/TIMESTAMP types: read as timestamps
  bool is_integer = false;   // exact integer types: read as numbers
};

/// One open statement with a result set, read one row at a time (SQLFetch).
class Cursor {
 public:
  ~Cursor();
  Cursor(Cursor&&) noexcept;
  Cursor& operator=(Cursor&&) = delete;
  Cursor(const Cursor&) = delete;

  const std::vector<ColumnInfo>& columns() const { return columns_; }
  /// Reads the next row into `row` (one Value per column). False at the end.
  Result<bool> next(std::vector<Value>& row);

 private:
  friend class Connection;
  Cursor(void* stmt, std::vector<ColumnInfo> cols, TextMode text, std::vector<bool> as_timestamp);
  void* stmt_;  // SQLHSTMT
  std::vector<ColumnInfo> columns_;
  TextMode text_;
  std::vector<bool> as_timestamp_;
};

/// One read-only connection. Not thread-safe; the view source owns one at a time.
class Connection {
 public:
  /// Connects (SQLDriverConnect) and asks for read-only access mode where the driver allows it.
  static Result<Connection> open(const ConnectOptions& o);
  ~Connection();
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) = delete;
  Connection(const Connection&) = delete;

  /// Prepares `sql` and describes its result columns without fetching a row.
  Result<std::vector<ColumnInfo>> describe(const std::string& sql);
  /// Executes `sql` with an optional timestamp parameter (the single `?`). Columns whose name
  /// is in `timestamp_columns` (case-insensitive) are read as timestamps whatever their type.
  Result<Cursor> query(const std::string& sql, const std::optional<Timestamp>& param,
                       const std::vector<std::string>& timestamp_columns);
  /// True when the driver accepted SQL_ATTR_ACCESS_MODE = SQL_MODE_READ_ONLY.
  bool read_only_mode() const { return read_only_; }

 private:
  Connection(void* env, void* dbc, TextMode text, bool ro) : env_(env), dbc_(dbc), text_(text), read_only_(ro) {}
  void* env_;
  void* dbc_;
  TextMode text_;
  bool read_only_;
};

/// UTF-16 code units (as SQLWCHAR holds them on unixODBC) to UTF-8; bad surrogates become U+FFFD.
std::string utf16_to_utf8(const std::uint16_t* s, std::size_t n);
/// GBK/GB18030 bytes to UTF-8 with iconv; invalid bytes are an error naming their offset.
Result<std::string> gbk_to_utf8(const std::string& in);

}  // namespace lightbox::agent::sources::view
