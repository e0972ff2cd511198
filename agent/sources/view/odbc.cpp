#include "agent/sources/view/odbc.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include <iconv.h>
#include <sql.h>
#include <sqlext.h>

namespace lightbox::agent::sources::view {
namespace {

static_assert(sizeof(SQLWCHAR) == 2, "unixODBC's SQLWCHAR is UTF-16");

// The driver's diagnostic records, joined: "[SQLSTATE] message; ...".
std::string diagnostics(SQLSMALLINT type, SQLHANDLE h) {
  std::string out;
  for (SQLSMALLINT i = 1; i <= 4; ++i) {
    SQLCHAR state[8] = {0};
    SQLCHAR msg[1024] = {0};
    SQLINTEGER native = 0;
    SQLSMALLINT len = 0;
    SQLRETURN rc = SQLGetDiagRec(type, h, i, state, &native, msg, sizeof msg, &len);
    if (!SQL_SUCCEEDED(rc)) break;
    if (!out.empty()) out += "; ";
    std::string m = reinterpret_cast<char*>(msg);
    while (!m.empty() && (m.back() == '\n' || m.back() == '\r')) m.pop_back();
    out.append("[").append(reinterpret_cast<char*>(state)).append("] ").append(m);
  }
  return out.empty() ? "no diagnostic from the driver" : out;
}

bool state_is(SQLSMALLINT type, SQLHANDLE h, const char* prefix) {
  SQLCHAR state[8] = {0};
  SQLCHAR msg[8];
  SQLINTEGER native = 0;
  SQLSMALLINT len = 0;
  if (!SQL_SUCCEEDED(SQLGetDiagRec(type, h, 1, state, &native, msg, sizeof msg, &len))) return false;
  return std::strncmp(reinterpret_cast<char*>(state), prefix, std::strlen(prefix)) == 0;
}

Error odbc_error(SQLSMALLINT type, SQLHANDLE h, const std::string& what) {
  std::string d = diagnostics(type, h);
  // 28000: invalid authorization; 08xxx: connection problems. Both are worth retrying later.
  Errc code = Errc::db_error;
  if (d.find("[28") != std::string::npos) code = Errc::unauthorized;
  else if (d.find("[08") != std::string::npos || d.find("[HYT") != std::string::npos) code = Errc::network;
  std::string msg = what;
  msg.append(": ").append(d);
  return fail(code, std::move(msg));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Connection-string values containing ';' or braces must be wrapped in braces.
std::string attr_value(const std::string& v) {
  if (v.find_first_of(";{}= ") == std::string::npos) return v;
  std::string out = "{";
  for (char c : v) {
    out += c;
    if (c == '}') out += '}';
  }
  return out + "}";
}

Result<std::vector<ColumnInfo>> describe_stmt(SQLHSTMT st) {
  SQLSMALLINT n = 0;
  if (!SQL_SUCCEEDED(SQLNumResultCols(st, &n))) return odbc_error(SQL_HANDLE_STMT, st, "cannot count result columns");
  std::vector<ColumnInfo> cols;
  for (SQLUSMALLINT i = 1; i <= static_cast<SQLUSMALLINT>(n); ++i) {
    SQLWCHAR name[512] = {0};
    SQLSMALLINT name_len = 0, type = 0, digits = 0, nullable = 0;
    SQLULEN size = 0;
    if (!SQL_SUCCEEDED(SQLDescribeColW(st, i, name, 511, &name_len, &type, &size, &digits, &nullable)))
      return odbc_error(SQL_HANDLE_STMT, st, "cannot describe result column " + std::to_string(i));
    ColumnInfo c;
    std::size_t len = 0;
    while (len < 511 && name[len] != 0) ++len;
    c.name = utf16_to_utf8(reinterpret_cast<const std::uint16_t*>(name), len);
    c.is_datetime = type == SQL_TYPE_TIMESTAMP || type == SQL_TYPE_DATE || type == SQL_TIMESTAMP || type == SQL_DATE ||
                    type == SQL_DATETIME;
    c.is_integer = type == SQL_INTEGER || type == SQL_SMALLINT || type == SQL_TINYINT || type == SQL_BIGINT ||
                   ((type == SQL_NUMERIC || type == SQL_DECIMAL) && digits == 0 && size > 0 && size <= 18);
    cols.push_back(std::move(c));
  }
  return cols;
}

}  // namespace

std::string utf16_to_utf8(const std::uint16_t* s, std::size_t n) {
  std::string out;
  out.reserve(n * 3);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t cp = s[i];
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < n && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (s[i + 1] - 0xDC00);
      ++i;
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
      cp = 0xFFFD;
    }
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

Result<std::string> gbk_to_utf8(const std::string& in) {
  // GB18030 is a superset of GBK and GB2312, so one converter serves all three.
  iconv_t cd = iconv_open("UTF-8", "GB18030");
  if (cd == reinterpret_cast<iconv_t>(-1)) return fail(Errc::internal, "iconv cannot convert GB18030 to UTF-8");
  std::string out(in.size() * 2 + 4, '\0');
  char* src = const_cast<char*>(in.data());
  std::size_t src_left = in.size();
  char* dst = out.data();
  std::size_t dst_left = out.size();
  while (src_left > 0) {
    if (iconv(cd, &src, &src_left, &dst, &dst_left) != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) {
      std::size_t used = static_cast<std::size_t>(dst - out.data());
      out.resize(out.size() * 2);
      dst = out.data() + used;
      dst_left = out.size() - used;
      continue;
    }
    std::size_t at = in.size() - src_left;
    iconv_close(cd);
    return fail(Errc::invalid_argument, "text is not valid GBK/GB18030 at byte " + std::to_string(at));
  }
  out.resize(static_cast<std::size_t>(dst - out.data()));
  iconv_close(cd);
  return out;
}

// ---------------------------------------------------------------------------------------------

Result<Connection> Connection::open(const ConnectOptions& o) {
  SQLHENV env = SQL_NULL_HENV;
  if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env)))
    return fail(Errc::internal, "cannot allocate an ODBC environment");
  SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0);
  SQLHDBC dbc = SQL_NULL_HDBC;
  if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc))) {
    SQLFreeHandle(SQL_HANDLE_ENV, env);
    return fail(Errc::internal, "cannot allocate an ODBC connection");
  }
  SQLSetConnectAttr(dbc, SQL_ATTR_LOGIN_TIMEOUT, reinterpret_cast<SQLPOINTER>(o.timeout_seconds), 0);
  SQLSetConnectAttr(dbc, SQL_ATTR_CONNECTION_TIMEOUT, reinterpret_cast<SQLPOINTER>(o.timeout_seconds), 0);
  std::string cs = o.connection_string;
  if (!cs.empty() && cs.back() != ';') cs += ';';
  if (!o.username.empty()) cs += "UID=" + attr_value(o.username) + ";";
  if (!o.password.empty()) cs += "PWD=" + attr_value(o.password) + ";";
  SQLCHAR out[1024];
  SQLSMALLINT out_len = 0;
  SQLRETURN rc = SQLDriverConnect(dbc, nullptr, reinterpret_cast<SQLCHAR*>(cs.data()), static_cast<SQLSMALLINT>(cs.size()),
                                  out, sizeof out, &out_len, SQL_DRIVER_NOPROMPT);
  std::fill(cs.begin(), cs.end(), '\0');  // the password is not kept around
  if (!SQL_SUCCEEDED(rc)) {
    Error e = odbc_error(SQL_HANDLE_DBC, dbc, "cannot connect");
    SQLFreeHandle(SQL_HANDLE_DBC, dbc);
    SQLFreeHandle(SQL_HANDLE_ENV, env);
    return e;
  }
  // Read-only where the driver supports it; views are only ever SELECTed either way.
  bool ro = SQL_SUCCEEDED(
      SQLSetConnectAttr(dbc, SQL_ATTR_ACCESS_MODE, reinterpret_cast<SQLPOINTER>(SQL_MODE_READ_ONLY), 0));
  return Connection(env, dbc, o.text, ro);
}

Connection::Connection(Connection&& o) noexcept : env_(o.env_), dbc_(o.dbc_), text_(o.text_), read_only_(o.read_only_) {
  o.env_ = nullptr;
  o.dbc_ = nullptr;
}

Connection::~Connection() {
  if (dbc_) {
    SQLDisconnect(static_cast<SQLHDBC>(dbc_));
    SQLFreeHandle(SQL_HANDLE_DBC, static_cast<SQLHDBC>(dbc_));
  }
  if (env_) SQLFreeHandle(SQL_HANDLE_ENV, static_cast<SQLHENV>(env_));
}

Result<std::vector<ColumnInfo>> Connection::describe(const std::string& sql) {
  SQLHSTMT st = SQL_NULL_HSTMT;
  if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, static_cast<SQLHDBC>(dbc_), &st)))
    return odbc_error(SQL_HANDLE_DBC, static_cast<SQLHDBC>(dbc_), "cannot allocate a statement");
  auto done = [&](auto r) {
    SQLFreeHandle(SQL_HANDLE_STMT, st);
    return r;
  };
  std::string q = sql;
  if (!SQL_SUCCEEDED(SQLPrepare(st, reinterpret_cast<SQLCHAR*>(q.data()), static_cast<SQLINTEGER>(q.size()))))
    return done(Result<std::vector<ColumnInfo>>(odbc_error(SQL_HANDLE_STMT, st, "query refused")));
  return done(describe_stmt(st));
}

Result<Cursor> Connection::query(const std::string& sql, const std::optional<Timestamp>& param,
                                 const std::vector<std::string>& timestamp_columns) {
  SQLHSTMT st = SQL_NULL_HSTMT;
  if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, static_cast<SQLHDBC>(dbc_), &st)))
    return odbc_error(SQL_HANDLE_DBC, static_cast<SQLHDBC>(dbc_), "cannot allocate a statement");
  // Forward-only, read-only cursor: rows are streamed, nothing can be updated through it.
  SQLSetStmtAttr(st, SQL_ATTR_CURSOR_TYPE, reinterpret_cast<SQLPOINTER>(SQL_CURSOR_FORWARD_ONLY), 0);
  SQLSetStmtAttr(st, SQL_ATTR_CONCURRENCY, reinterpret_cast<SQLPOINTER>(SQL_CONCUR_READ_ONLY), 0);
  SQL_TIMESTAMP_STRUCT ts{};
  SQLLEN ind = sizeof ts;
  if (param) {
    ts.year = static_cast<SQLSMALLINT>(param->year);
    ts.month = static_cast<SQLUSMALLINT>(param->month);
    ts.day = static_cast<SQLUSMALLINT>(param->day);
    ts.hour = static_cast<SQLUSMALLINT>(param->hour);
    ts.minute = static_cast<SQLUSMALLINT>(param->minute);
    ts.second = static_cast<SQLUSMALLINT>(param->second);
    // Whole microseconds: some drivers refuse finer fractions than the column's precision.
    ts.fraction = param->fraction_ns / 1000 * 1000;
    if (!SQL_SUCCEEDED(SQLBindParameter(st, 1, SQL_PARAM_INPUT, SQL_C_TYPE_TIMESTAMP, SQL_TYPE_TIMESTAMP, 26, 6, &ts,
                                        sizeof ts, &ind))) {
      Error e = odbc_error(SQL_HANDLE_STMT, st, "cannot bind the watermark");
      SQLFreeHandle(SQL_HANDLE_STMT, st);
      return e;
    }
  }
  std::string q = sql;
  SQLRETURN rc = SQLExecDirect(st, reinterpret_cast<SQLCHAR*>(q.data()), static_cast<SQLINTEGER>(q.size()));
  if (!SQL_SUCCEEDED(rc) && rc != SQL_NO_DATA) {
    Error e = odbc_error(SQL_HANDLE_STMT, st, "query failed");
    SQLFreeHandle(SQL_HANDLE_STMT, st);
    return e;
  }
  auto cols = describe_stmt(st);
  if (!cols) {
    SQLFreeHandle(SQL_HANDLE_STMT, st);
    return std::move(cols).error();
  }
  std::vector<bool> as_ts(cols->size(), false);
  for (std::size_t i = 0; i < cols->size(); ++i) {
    as_ts[i] = (*cols)[i].is_datetime;
    for (const auto& t : timestamp_columns) as_ts[i] = as_ts[i] || lower(t) == lower((*cols)[i].name);
  }
  return Cursor(st, std::move(*cols), text_, std::move(as_ts));
}

// ---------------------------------------------------------------------------------------------

Cursor::Cursor(void* stmt, std::vector<ColumnInfo> cols, TextMode text, std::vector<bool> as_timestamp)
    : stmt_(stmt), columns_(std::move(cols)), text_(text), as_timestamp_(std::move(as_timestamp)) {}

Cursor::Cursor(Cursor&& o) noexcept
    : stmt_(o.stmt_), columns_(std::move(o.columns_)), text_(o.text_), as_timestamp_(std::move(o.as_timestamp_)) {
  o.stmt_ = nullptr;
}

Cursor::~Cursor() {
  if (stmt_) {
    SQLCloseCursor(static_cast<SQLHSTMT>(stmt_));
    SQLFreeHandle(SQL_HANDLE_STMT, static_cast<SQLHSTMT>(stmt_));
  }
}

Result<bool> Cursor::next(std::vector<Value>& row) {
  auto st = static_cast<SQLHSTMT>(stmt_);
  SQLRETURN rc = SQLFetch(st);
  if (rc == SQL_NO_DATA) return false;
  if (!SQL_SUCCEEDED(rc)) return odbc_error(SQL_HANDLE_STMT, st, "fetch failed");
  row.assign(columns_.size(), Value{});
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    const auto col = static_cast<SQLUSMALLINT>(i + 1);
    Value& v = row[i];
    SQLLEN ind = 0;
    if (as_timestamp_[i]) {
      SQL_TIMESTAMP_STRUCT ts{};
      rc = SQLGetData(st, col, SQL_C_TYPE_TIMESTAMP, &ts, sizeof ts, &ind);
      if (!SQL_SUCCEEDED(rc))
        return odbc_error(SQL_HANDLE_STMT, st, "column " + columns_[i].name + " cannot be read as a timestamp");
      if (ind == SQL_NULL_DATA) continue;
      v.type = Value::Type::timestamp;
      v.ts = Timestamp{ts.year, ts.month, ts.day, ts.hour, ts.minute, ts.second, static_cast<std::uint32_t>(ts.fraction)};
      continue;
    }
    if (columns_[i].is_integer) {
      SQLBIGINT n = 0;
      rc = SQLGetData(st, col, SQL_C_SBIGINT, &n, sizeof n, &ind);
      if (SQL_SUCCEEDED(rc)) {
        if (ind != SQL_NULL_DATA) {
          v.type = Value::Type::integer;
          v.integer = n;
        }
        continue;
      }
      return odbc_error(SQL_HANDLE_STMT, st, "column " + columns_[i].name + " cannot be read as a number");
    }
    // Text in chunks: a long report text arrives in several SQLGetData calls.
    std::string bytes;
    bool is_null = false;
    const bool wide = text_ == TextMode::wide;
    char buf[8192];
    for (;;) {
      rc = SQLGetData(st, col, wide ? SQL_C_WCHAR : SQL_C_CHAR, buf, sizeof buf, &ind);
      if (rc == SQL_NO_DATA) break;
      if (!SQL_SUCCEEDED(rc)) return odbc_error(SQL_HANDLE_STMT, st, "column " + columns_[i].name + " cannot be read");
      if (ind == SQL_NULL_DATA) {
        is_null = true;
        break;
      }
      const std::size_t term = wide ? sizeof(SQLWCHAR) : 1;
      std::size_t got = (ind == SQL_NO_TOTAL || static_cast<std::size_t>(ind) > sizeof buf - term)
                            ? sizeof buf - term
                            : static_cast<std::size_t>(ind);
      if (wide) got -= got % sizeof(SQLWCHAR);
      bytes.append(buf, got);
      if (rc == SQL_SUCCESS) break;  // SQL_SUCCESS_WITH_INFO (01004) = truncated, more follows
      if (!state_is(SQL_HANDLE_STMT, st, "01004")) break;
    }
    if (is_null) continue;
    v.type = Value::Type::text;
    if (wide) {
      v.text = utf16_to_utf8(reinterpret_cast<const std::uint16_t*>(bytes.data()), bytes.size() / 2);
    } else if (text_ == TextMode::gbk) {
      auto u = gbk_to_utf8(bytes);
      if (!u) return fail(Errc::invalid_argument, "column " + columns_[i].name + ": " + u.error().message);
      v.text = std::move(*u);
    } else {
      v.text = std::move(bytes);
    }
  }
  return true;
}

}  // namespace lightbox::agent::sources::view
