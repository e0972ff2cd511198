#include "agent/sources/ftp/ftp_listing.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <strings.h>

namespace lightbox::agent::sources::ftp {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

template <class T>
bool to_num(std::string_view s, T& out) {
  if (!all_digits(s)) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::int64_t utc_seconds(int year, int mon, int day, int hour, int min, int sec) {
  struct tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  return static_cast<std::int64_t>(timegm(&tm));
}

int month_of(std::string_view s) {
  static const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  if (s.size() != 3) return 0;
  for (int i = 0; i < 12; ++i)
    if (strncasecmp(s.data(), kMonths[i], 3) == 0) return i + 1;
  return 0;
}

// Splits on runs of blanks, remembering where each token starts (names may contain spaces).
struct Token {
  std::string_view text;
  std::size_t pos;
};
std::vector<Token> tokens(std::string_view line) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t b = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > b) out.push_back({line.substr(b, i - b), b});
  }
  return out;
}

std::optional<RemoteEntry> parse_unix(std::string_view line, const std::vector<Token>& t, std::int64_t now_s) {
  char type = line[0];
  // Find "<size> <Mon> <day> <HH:MM|year>" from the left; owner/group columns may be missing.
  for (std::size_t i = 2; i + 3 < t.size(); ++i) {
    int mon = month_of(t[i].text);
    int day = 0;
    std::uint64_t size = 0;
    if (mon == 0 || !to_num(t[i - 1].text, size) || !to_num(t[i + 1].text, day) || day < 1 || day > 31) continue;
    std::string_view when = t[i + 2].text;
    RemoteEntry e;
    e.size = size;
    int year = 0, hour = 0, minute = 0;
    if (auto colon = when.find(':'); colon != std::string_view::npos) {
      if (!to_num(when.substr(0, colon), hour) || !to_num(when.substr(colon + 1), minute)) continue;
      // No year: the most recent such date that is not more than a day in the future.
      struct tm now_tm{};
      time_t now = static_cast<time_t>(now_s);
      gmtime_r(&now, &now_tm);
      year = now_tm.tm_year + 1900;
      if (utc_seconds(year, mon, day, hour, minute, 0) > now_s + 86400) --year;
    } else if (!to_num(when, year)) {
      continue;
    }
    e.mtime_s = utc_seconds(year, mon, day, hour, minute, 0);
    std::size_t name_at = t[i + 2].pos + when.size();
    while (name_at < line.size() && line[name_at] == ' ') ++name_at;
    if (name_at >= line.size()) return std::nullopt;
    e.name = std::string(line.substr(name_at));
    e.is_dir = type == 'd';
    e.is_file = type == '-';
    if (type == 'l') {
      if (auto arrow = e.name.find(" -> "); arrow != std::string::npos) e.name.resize(arrow);
    }
    return e;
  }
  return std::nullopt;
}

// "11-28-26  01:30AM       <DIR>          sub" / "11-28-2026  13:30  1234 a.dcm"
std::optional<RemoteEntry> parse_dos(std::string_view line, const std::vector<Token>& t) {
  if (t.size() < 4) return std::nullopt;
  std::string_view d = t[0].text, tm = t[1].text;
  int mon = 0, day = 0, year = 0, hour = 0, minute = 0;
  auto d1 = d.find('-'), d2 = d.rfind('-');
  if (d1 == std::string_view::npos || d1 == d2) return std::nullopt;
  if (!to_num(d.substr(0, d1), mon) || !to_num(d.substr(d1 + 1, d2 - d1 - 1), day) || !to_num(d.substr(d2 + 1), year))
    return std::nullopt;
  if (year < 100) year += year < 70 ? 2000 : 1900;
  auto colon = tm.find(':');
  if (colon == std::string_view::npos || !to_num(tm.substr(0, colon), hour)) return std::nullopt;
  std::string_view rest = tm.substr(colon + 1);
  std::string_view ampm;
  if (rest.size() > 2 && std::isalpha(static_cast<unsigned char>(rest.back()))) {
    ampm = rest.substr(2);
    rest = rest.substr(0, 2);
  }
  if (!to_num(rest, minute)) return std::nullopt;
  if (!ampm.empty()) {
    bool pm = ampm[0] == 'P' || ampm[0] == 'p';
    if (hour == 12) hour = 0;
    if (pm) hour += 12;
  }
  RemoteEntry e;
  if (t[2].text == "<DIR>") {
    e.is_dir = true;
  } else if (to_num(t[2].text, e.size)) {
    e.is_file = true;
  } else {
    return std::nullopt;
  }
  e.mtime_s = utc_seconds(year, mon, day, hour, minute, 0);
  e.name = std::string(line.substr(t[3].pos));
  return e;
}

}  // namespace

std::optional<std::int64_t> parse_ftp_time(std::string_view s) {
  if (s.size() < 14) return std::nullopt;
  int y, mo, d, h, mi, se;
  if (!to_num(s.substr(0, 4), y) || !to_num(s.substr(4, 2), mo) || !to_num(s.substr(6, 2), d) ||
      !to_num(s.substr(8, 2), h) || !to_num(s.substr(10, 2), mi) || !to_num(s.substr(12, 2), se))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  if (s.size() > 14 && s[14] != '.') return std::nullopt;
  // Fractions are dropped: timestamps are compared at one-second resolution, whatever the server.
  return utc_seconds(y, mo, d, h, mi, se);
}

std::optional<RemoteEntry> parse_mlsd_line(std::string_view line) {
  auto sp = line.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  std::string_view facts = line.substr(0, sp);
  RemoteEntry e;
  e.name = std::string(line.substr(sp + 1));
  if (e.name.empty() || e.name == "." || e.name == "..") return std::nullopt;
  bool typed = false;
  std::size_t i = 0;
  while (i < facts.size()) {
    auto semi = facts.find(';', i);
    std::string_view f = facts.substr(i, semi == std::string_view::npos ? std::string_view::npos : semi - i);
    i = semi == std::string_view::npos ? facts.size() : semi + 1;
    auto eq = f.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key = lower(f.substr(0, eq));
    std::string_view val = f.substr(eq + 1);
    if (key == "type") {
      std::string v = lower(val);
      if (v == "cdir" || v == "pdir") return std::nullopt;
      e.is_dir = v == "dir";
      e.is_file = v == "file";
      typed = true;
    } else if (key == "size") {
      to_num(val, e.size);
    } else if (key == "modify") {
      if (auto t = parse_ftp_time(val)) {
        e.mtime_s = *t;
        e.mtime_exact = true;
      }
    }
  }
  if (!typed) return std::nullopt;
  return e;
}

std::optional<RemoteEntry> parse_list_line(std::string_view line, std::int64_t now_s) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (line.empty()) return std::nullopt;
  auto t = tokens(line);
  if (t.empty() || t[0].text == "total") return std::nullopt;
  std::optional<RemoteEntry> e;
  if (std::isdigit(static_cast<unsigned char>(line[0]))) {
    e = parse_dos(line, t);
  } else if (t.size() >= 6 && std::string_view("-dlbcps").find(line[0]) != std::string_view::npos) {
    e = parse_unix(line, t, now_s);
  }
  if (e && (e->name == "." || e->name == "..")) return std::nullopt;
  return e;
}

std::vector<RemoteEntry> parse_listing(std::string_view text, bool mlsd, std::int64_t now_s) {
  std::vector<RemoteEntry> out;
  std::size_t i = 0;
  while (i < text.size()) {
    auto nl = text.find('\n', i);
    std::string_view line = text.substr(i, nl == std::string_view::npos ? std::string_view::npos : nl - i);
    i = nl == std::string_view::npos ? text.size() : nl + 1;
    while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    auto e = mlsd ? parse_mlsd_line(line) : parse_list_line(line, now_s);
    if (e) out.push_back(std::move(*e));
  }
  return out;
}

bool features_have_mlsd(const std::vector<std::string>& feat_lines) {
  for (const auto& l : feat_lines) {
    auto t = tokens(l);
    for (const auto& tok : t) {
      std::string w = lower(tok.text);
      if (w == "mlsd" || w == "mlst") return true;
    }
  }
  return false;
}

}  // namespace lightbox::agent::sources::ftp
