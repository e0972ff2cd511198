#include "agent/sources/view/view_config.hpp"

#include <algorithm>
#include <cctype>

namespace lightbox::agent::sources::view {
namespace {

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

bool word_char(unsigned char c) { return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

// The SQL's words outside literals, quoted identifiers and comments, upper-cased, plus whether
// a ';' is followed by anything but blanks.
struct Scan {
  std::vector<std::string> words;
  bool second_statement = false;
  bool unterminated = false;
};

Scan scan_sql(const std::string& sql) {
  Scan out;
  std::size_t i = 0;
  const std::size_t n = sql.size();
  bool after_semicolon = false;
  while (i < n) {
    const char c = sql[i];
    if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      while (i < n && sql[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      auto end = sql.find("*/", i + 2);
      if (end == std::string::npos) {
        out.unterminated = true;
        return out;
      }
      i = end + 2;
      continue;
    }
    if (c == '\'' || c == '"' || c == '`' || c == '[') {
      const char close = c == '[' ? ']' : c;
      std::size_t j = i + 1;
      for (;;) {
        if (j >= n) {
          out.unterminated = true;
          return out;
        }
        if (sql[j] == close) {
          if (close != ']' && j + 1 < n && sql[j + 1] == close) {
            j += 2;  // doubled quote inside the literal
            continue;
          }
          break;
        }
        ++j;
      }
      if (after_semicolon) out.second_statement = true;
      i = j + 1;
      continue;
    }
    if (c == ';') {
      after_semicolon = true;
      ++i;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (after_semicolon) out.second_statement = true;
    if (word_char(static_cast<unsigned char>(c))) {
      std::size_t j = i;
      while (j < n && word_char(static_cast<unsigned char>(sql[j]))) ++j;
      out.words.push_back(upper(sql.substr(i, j - i)));
      i = j;
      continue;
    }
    ++i;
  }
  return out;
}

bool is_plain_part(const std::string& p) {
  if (p.empty()) return false;
  if (std::isdigit(static_cast<unsigned char>(p[0]))) return false;
  return std::all_of(p.begin(), p.end(), [](unsigned char c) { return word_char(c); });
}

bool is_quoted_part(const std::string& p) {
  if (p.size() < 3) return false;
  const char o = p.front(), c = p.back();
  if (!((o == '"' && c == '"') || (o == '[' && c == ']') || (o == '`' && c == '`'))) return false;
  const std::string inner = p.substr(1, p.size() - 2);
  return inner.find_first_of("\"[]`;") == std::string::npos;
}

std::string strip_semicolon(std::string s) {
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == ';')) s.pop_back();
  return s;
}

}  // namespace

const std::vector<std::string>& record_kinds() {
  static const std::vector<std::string> kinds{"order",  "exam", "report",        "report_indicator",
                                              "series", "report_image", "media_server", "patient",
                                              "ris_pacs_link", "qc", "authorization", "citation",
                                              "recognition"};
  return kinds;
}

bool is_identifier(const std::string& s) {
  if (s.empty() || s.size() > 256) return false;
  // Split on dots outside quotes: schema.view, "Schema"."View", [dbo].[v_exam].
  std::vector<std::string> parts;
  std::string cur;
  char quote = 0;
  for (char c : s) {
    if (quote) {
      cur += c;
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '"' || c == '`') quote = c;
    else if (c == '[') quote = ']';
    if (c == '.') {
      parts.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  if (quote) return false;
  parts.push_back(cur);
  if (parts.size() > 3) return false;
  return std::all_of(parts.begin(), parts.end(), [](const std::string& p) { return is_plain_part(p) || is_quoted_part(p); });
}

std::optional<std::string> why_not_read_only(const std::string& sql) {
  Scan s = scan_sql(sql);
  if (s.unterminated) return "has an unterminated quote or comment";
  if (s.second_statement) return "must be a single statement (text follows a ';')";
  if (s.words.empty()) return "is empty";
  if (s.words[0] != "SELECT" && s.words[0] != "WITH") return "must start with SELECT or WITH (only reads are allowed)";
  static const std::vector<std::string> kForbidden{
      "INSERT", "UPDATE",  "DELETE", "MERGE", "UPSERT", "REPLACE", "DROP",    "ALTER",  "CREATE", "TRUNCATE",
      "GRANT",  "REVOKE",  "EXEC",   "EXECUTE", "CALL", "INTO",    "LOCK",    "COPY",   "COMMIT", "ROLLBACK",
      "SET",    "DECLARE", "BEGIN",  "VACUUM", "ATTACH", "DETACH", "PRAGMA", "RENAME", "COMMENT", "LOAD"};
  for (const auto& w : s.words)
    if (std::find(kForbidden.begin(), kForbidden.end(), w) != kForbidden.end())
      return "contains " + w + ", but a view source only reads (SELECT)";
  return std::nullopt;
}

ViewConfig parse_view_config(config::Node& n, ViewConfig base) {
  ViewConfig c = std::move(base);
  std::string dsn;
  n.get("dsn", dsn);
  n.get("connection_string", c.connection_string);
  if (!dsn.empty() && !c.connection_string.empty()) n.problem("dsn", "give either dsn or connection_string, not both");
  else if (dsn.empty() && c.connection_string.empty() && !n.has("dsn") && !n.has("connection_string"))
    n.problem("dsn", "is required (or connection_string)");
  if (!dsn.empty()) {
    if (dsn.find_first_of(";{}") != std::string::npos) n.problem("dsn", "must be a DSN name (no ';' or braces)");
    c.connection_string = "DSN=" + dsn;
  }
  std::string user, password;
  n.get("username", user);
  n.get("password", password);
  c.username = log::Secret(std::move(user));
  c.password = log::Secret(std::move(password));
  n.get_int("timeout_seconds", c.timeout_seconds, 1, 600);

  n.get("view", c.view);
  n.get("columns", c.columns);
  n.get("select", c.select);
  if (c.view.empty() == c.select.empty()) n.problem(c.view.empty() ? "view" : "select", "give exactly one of view or select");
  if (!c.view.empty() && !is_identifier(c.view))
    n.problem("view", "must be a table or view name (schema.name, quoted parts allowed), not SQL");
  if (!c.select.empty()) {
    if (auto why = why_not_read_only(c.select)) n.problem("select", *why);
    c.select = strip_semicolon(c.select);
    if (!c.columns.empty()) n.problem("columns", "only goes with view (a select names its own columns)");
  }
  for (std::size_t i = 0; i < c.columns.size(); ++i)
    if (!is_identifier(c.columns[i]))
      n.problem("columns", "[" + std::to_string(i) + "] '" + c.columns[i] + "' is not a column name");

  auto map = n.child("map", true);
  map.get("key", c.map.key_column, true);
  if (map.has("key") && !is_identifier(c.map.key_column)) map.problem("key", "must be a column name");
  auto wm = n.child("watermark", true);
  wm.get("timestamp_column", c.timestamp_column, true);
  if (wm.has("timestamp_column") && !is_identifier(c.timestamp_column))
    wm.problem("timestamp_column", "must be a column name");
  c.key_column = c.map.key_column;
  wm.get("key_column", c.key_column);
  if (wm.has("key_column") && !is_identifier(c.key_column)) wm.problem("key_column", "must be a column name");
  wm.get_int("lookback_seconds", c.lookback_seconds, 0, 30 * 86400);
  wm.finish();

  c.map.version_column = c.timestamp_column;
  map.get("version", c.map.version_column);
  if (map.has("version") && !is_identifier(c.map.version_column)) map.problem("version", "must be a column name");
  auto fields = map.child("fields", true);
  for (const auto& k : fields.keys()) {
    std::string column;
    fields.get(k, column);
    if (k.empty() || k.find_first_of(" .\"") != std::string::npos)
      fields.problem(k, "record field names are plain words (no spaces, dots or quotes)");
    else if (!is_identifier(column))
      fields.problem(k, "must be a column name");
    else
      c.map.fields.emplace_back(k, column);
  }
  if (map.has("fields") && c.map.fields.empty()) map.problem("fields", "must map at least one field");
  map.finish();

  n.get_enum("record_kind", c.map.record_kind,
             std::vector<std::string_view>(record_kinds().begin(), record_kinds().end()), true);
  n.get_int("batch_rows", c.batch_rows, 1, 100000);
  n.get_int("max_records_per_poll", c.max_records_per_poll, 1, 10'000'000);
  std::string enc = "utf-8";
  n.get_enum("encoding", enc, {"utf-8", "gbk", "gb18030", "utf-8-narrow"});
  c.text = (enc == "gbk" || enc == "gb18030") ? TextMode::gbk : enc == "utf-8-narrow" ? TextMode::utf8 : TextMode::wide;

  // With an explicit column list, every mapped column must be read.
  if (!c.columns.empty()) {
    auto listed = [&](const std::string& name) {
      return std::find(c.columns.begin(), c.columns.end(), name) != c.columns.end();
    };
    auto need = [&](config::Node& at, const std::string& key, const std::string& name) {
      if (!name.empty() && !listed(name)) at.problem(key, "column '" + name + "' is not in columns");
    };
    need(map, "key", c.map.key_column);
    need(map, "version", c.map.version_column);
    need(wm, "timestamp_column", c.timestamp_column);
    need(wm, "key_column", c.key_column);
    for (const auto& [f, column] : c.map.fields) need(fields, f, column);
  }
  return c;
}

std::string poll_sql(const ViewConfig& c, bool with_watermark) {
  std::string from;
  if (!c.select.empty()) {
    from = "SELECT * FROM (" + c.select + ") lb_q";
  } else {
    std::vector<std::string> cols = c.columns;
    auto add = [&](const std::string& name) {
      if (std::find(cols.begin(), cols.end(), name) == cols.end()) cols.push_back(name);
    };
    if (cols.empty()) {
      add(c.map.key_column);
      add(c.map.version_column);
      for (const auto& f : c.map.fields) add(f.second);
    }
    add(c.timestamp_column);
    add(c.key_column);
    std::string list;
    for (std::size_t i = 0; i < cols.size(); ++i) list += (i ? ", " : "") + cols[i];
    from = "SELECT " + list + " FROM " + c.view;
  }
  const std::string ts = c.timestamp_column;
  std::string where = with_watermark ? " WHERE " + ts + " >= ?" : " WHERE " + ts + " IS NOT NULL";
  return from + where + " ORDER BY " + ts + ", " + c.key_column;
}

std::string probe_sql(const ViewConfig& c) {
  // Every column, no rows: `check` learns the shape without reading the view, and can name
  // each missing column instead of stopping at the database's first complaint.
  if (!c.select.empty()) return "SELECT * FROM (" + c.select + ") lb_probe WHERE 1 = 0";
  return "SELECT * FROM " + c.view + " WHERE 1 = 0";
}

}  // namespace lightbox::agent::sources::view
