#include "agent/sources/http/http_listing.hpp"

#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "common/http/fetcher.hpp"
#include "common/http/ftp_client.hpp"

namespace lightbox::agent::sources::http {
namespace {

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::size_t path_start(const std::string& url) {
  auto s = url.find("://");
  if (s == std::string::npos) return std::string::npos;
  auto p = url.find('/', s + 3);
  return p;
}

bool safe_rel(const std::string& rel) {
  if (rel.empty() || rel[0] == '/' || rel.back() == '/') return false;
  for (unsigned char c : rel)
    if (c < 0x20 || c == 0x7f) return false;
  std::size_t i = 0;
  while (i <= rel.size()) {
    auto j = rel.find('/', i);
    std::string seg = rel.substr(i, j == std::string::npos ? std::string::npos : j - i);
    if (seg.empty() || seg == "." || seg == "..") return false;
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return true;
}

std::string base_dir(const std::string& url) {
  std::string u = url.substr(0, url.find_first_of("?#"));
  auto p = path_start(u);
  if (p == std::string::npos) return u + "/";
  return u.substr(0, u.rfind('/') + 1);
}

}  // namespace

std::optional<std::int64_t> parse_listing_time(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (text.find_first_not_of("0123456789") == std::string::npos && text.size() < 19) return std::stoll(text);
  int y, mo, d, h, mi, s;
  char z = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &z) >= 6) {
    struct tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return static_cast<std::int64_t>(timegm(&tm));  // offsets other than Z are read as UTC
  }
  return lightbox::http::parse_http_date(text);
}

std::string resolve_url(const std::string& base, const std::string& ref) {
  if (ref.rfind("http://", 0) == 0 || ref.rfind("https://", 0) == 0) return ref;
  if (!ref.empty() && ref[0] == '/') {
    auto p = path_start(base);
    return (p == std::string::npos ? base : base.substr(0, p)) + ref;
  }
  return base_dir(base) + ref;
}

std::string url_rel_path(const std::string& url) {
  auto p = path_start(url);
  if (p == std::string::npos) return {};
  std::string path = url.substr(p + 1);
  path = path.substr(0, path.find_first_of("?#"));
  return percent_decode(path);
}

Result<std::vector<ListingEntry>> parse_listing_json(std::string_view text, const std::string& listing_url,
                                                     const std::string& rel_prefix) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return fail(Errc::invalid_argument, "the listing at " + listing_url + " is not JSON");
  const nlohmann::json* arr = &j;
  if (j.is_object() && j.contains("files")) arr = &j["files"];
  if (!arr->is_array())
    return fail(Errc::invalid_argument, "the listing at " + listing_url +
                                            " is neither a JSON array nor an object with a \"files\" array");
  const std::string dir = base_dir(listing_url);
  const std::string dir_rel = url_rel_path(dir);
  std::vector<ListingEntry> out;
  for (const auto& e : *arr) {
    if (!e.is_object()) continue;
    ListingEntry le;
    std::string name = e.contains("name") && e["name"].is_string() ? e["name"].get<std::string>() : "";
    std::string url = e.contains("url") && e["url"].is_string() ? e["url"].get<std::string>() : "";
    std::string type = e.contains("type") && e["type"].is_string() ? e["type"].get<std::string>() : "file";
    if (type == "directory") {
      le.is_dir = true;
    } else if (type != "file") {
      continue;  // nginx "other" (sockets, devices)
    }
    if (url.empty() && name.empty()) continue;
    if (url.empty()) {
      url = dir + lightbox::http::url_escape_path(name) + (le.is_dir ? "/" : "");
    } else {
      url = resolve_url(listing_url, url);
    }
    if (name.empty()) {
      // Named by its URL: relative to the listing's folder when below it, else its whole path.
      std::string path = url_rel_path(url);
      name = (!dir_rel.empty() && path.rfind(dir_rel, 0) == 0) ? path.substr(dir_rel.size()) : path;
    }
    while (!name.empty() && name.back() == '/') name.pop_back();
    le.url = url;
    le.rel_path = rel_prefix + name;
    if (!safe_rel(le.rel_path)) continue;
    if (e.contains("size") && e["size"].is_number_unsigned()) le.size = e["size"].get<std::uint64_t>();
    if (e.contains("size") && e["size"].is_number_integer() && e["size"].get<std::int64_t>() >= 0)
      le.size = static_cast<std::uint64_t>(e["size"].get<std::int64_t>());
    if (e.contains("mtime")) {
      if (e["mtime"].is_string()) le.mtime_s = parse_listing_time(e["mtime"].get<std::string>());
      if (e["mtime"].is_number_integer()) le.mtime_s = e["mtime"].get<std::int64_t>();
    }
    if (e.contains("etag") && e["etag"].is_string()) le.etag = e["etag"].get<std::string>();
    out.push_back(std::move(le));
  }
  return out;
}

}  // namespace lightbox::agent::sources::http
