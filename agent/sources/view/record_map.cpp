#include "agent/sources/view/record_map.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "common/hash/sha256.hpp"

namespace lightbox::agent::sources::view {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// A configured column may be quoted ("Exam Time", [Exam Time], `x`); the driver reports it bare.
std::string bare(const std::string& col) {
  if (col.size() >= 2 && ((col.front() == '"' && col.back() == '"') || (col.front() == '[' && col.back() == ']') ||
                          (col.front() == '`' && col.back() == '`')))
    return col.substr(1, col.size() - 2);
  auto dot = col.rfind('.');
  return dot == std::string::npos ? col : col.substr(dot + 1);
}

}  // namespace

std::int64_t Timestamp::epoch_seconds() const {
  return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 + hour * 3600 +
         minute * 60 + second;
}

Timestamp Timestamp::from_epoch_seconds(std::int64_t s) {
  Timestamp t;
  std::int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
  std::int64_t rem = s - days * 86400;
  civil_from_days(days, t.year, t.month, t.day);
  t.hour = static_cast<int>(rem / 3600);
  t.minute = static_cast<int>(rem % 3600 / 60);
  t.second = static_cast<int>(rem % 60);
  return t;
}

Timestamp Timestamp::minus_seconds(std::int64_t seconds) const {
  Timestamp t = from_epoch_seconds(epoch_seconds() - seconds);
  t.fraction_ns = fraction_ns;
  return t;
}

std::string Timestamp::iso() const {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", year, month, day, hour, minute, second);
  std::string out = buf;
  if (fraction_ns != 0) {
    std::snprintf(buf, sizeof buf, ".%06u", fraction_ns / 1000);
    std::string frac = buf;
    while (frac.size() > 2 && frac.back() == '0') frac.pop_back();
    out += frac;
  }
  return out;
}

std::optional<Timestamp> Timestamp::parse(const std::string& s) {
  Timestamp t;
  int n = 0;
  char sep = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &t.year, &t.month, &t.day, &sep, &t.hour, &t.minute,
                  &t.second, &n) != 7 ||
      (sep != 'T' && sep != ' '))
    return std::nullopt;
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > 31 || t.hour > 23 || t.minute > 59 || t.second > 60)
    return std::nullopt;
  std::size_t i = static_cast<std::size_t>(n);
  if (i < s.size() && s[i] == '.') {
    std::uint32_t frac = 0;
    int digits = 0;
    for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
      if (digits < 9) {
        frac = frac * 10 + static_cast<std::uint32_t>(s[i] - '0');
        ++digits;
      }
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 9; ++digits) frac *= 10;
    t.fraction_ns = frac;
  }
  if (i != s.size()) return std::nullopt;
  return t;
}

nlohmann::json Value::to_json() const {
  switch (type) {
    case Type::null: return nullptr;
    case Type::text: return text;
    case Type::integer: return integer;
    case Type::timestamp: return ts.iso();
  }
  return nullptr;
}

std::string Value::to_string() const {
  switch (type) {
    case Type::null: return {};
    case Type::text: return text;
    case Type::integer: return std::to_string(integer);
    case Type::timestamp: return ts.iso();
  }
  return {};
}

Result<ColumnIndex> index_columns(const RecordMap& m, const std::vector<std::string>& names) {
  std::map<std::string, std::size_t> by_name;
  for (std::size_t i = 0; i < names.size(); ++i) by_name.emplace(lower(names[i]), i);
  std::vector<std::string> missing;
  auto find = [&](const std::string& col, std::size_t& out) {
    auto it = by_name.find(lower(bare(col)));
    if (it == by_name.end()) {
      if (std::find(missing.begin(), missing.end(), col) == missing.end()) missing.push_back(col);
      return;
    }
    out = it->second;
  };
  ColumnIndex ix;
  find(m.key_column, ix.key);
  find(m.version_column, ix.version);
  ix.fields.resize(m.fields.size());
  for (std::size_t i = 0; i < m.fields.size(); ++i) find(m.fields[i].second, ix.fields[i]);
  if (!missing.empty()) {
    std::string msg = "missing column" + std::string(missing.size() > 1 ? "s" : "") + ": ";
    for (std::size_t i = 0; i < missing.size(); ++i) msg += (i ? ", " : "") + missing[i];
    return fail(Errc::not_found, msg);
  }
  return ix;
}

std::string record_hash(const nlohmann::json& record) { return hash::sha256_hex(record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)); }

Result<MappedRecord> map_row(const RecordMap& m, const ColumnIndex& ix, const std::vector<Value>& row) {
  const std::size_t need = std::max({ix.key, ix.version, ix.fields.empty() ? 0 : *std::max_element(ix.fields.begin(), ix.fields.end())});
  if (row.size() <= need) return fail(Errc::internal, "row has fewer columns than the map needs");
  MappedRecord out;
  out.key = row[ix.key].to_string();
  if (out.key.empty()) return fail(Errc::invalid_argument, "row without a key (column " + m.key_column + " is empty)", "key");
  std::string version = row[ix.version].to_string();
  if (version.empty())
    return fail(Errc::invalid_argument, "row " + out.key + " has no version (column " + m.version_column + " is empty)",
                "version");
  nlohmann::json fields = nlohmann::json::object();
  for (std::size_t i = 0; i < m.fields.size(); ++i) fields[m.fields[i].first] = row[ix.fields[i]].to_json();
  out.record = {{"kind", m.record_kind}, {"key", out.key}, {"version", version}, {"fields", std::move(fields)}};
  out.hash = record_hash(out.record);
  return out;
}

std::string Watermark::to_json_text() const { return nlohmann::json{{"ts", ts.iso()}, {"key", key}}.dump(); }

Result<std::optional<Watermark>> Watermark::parse(const std::string& text) {
  if (text.empty()) return std::optional<Watermark>();
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("ts") || !j["ts"].is_string())
    return fail(Errc::invalid_argument, "stored watermark is not {\"ts\":...,\"key\":...}: " + text);
  auto ts = Timestamp::parse(j["ts"].get<std::string>());
  if (!ts) return fail(Errc::invalid_argument, "stored watermark has a bad timestamp: " + text);
  Watermark w{*ts, j.contains("key") && j["key"].is_string() ? j["key"].get<std::string>() : std::string()};
  return std::optional<Watermark>(std::move(w));
}

std::string batch_json(const std::vector<nlohmann::json>& records) {
  nlohmann::json j = {{"records", records}};
  // Invalid UTF-8 (a driver's narrow bytes) becomes U+FFFD rather than an exception.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace lightbox::agent::sources::view
