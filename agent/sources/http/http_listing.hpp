#pragma once
// Reading a JSON listing for the `http` source. Two shapes are accepted:
//  * nginx `autoindex_format json`: [{"name":"a.dcm","type":"file","mtime":"Sat, 28 Nov 2026 01:30:00 GMT","size":12},
//    {"name":"sub","type":"directory",...}] (directories are listed in turn when recursive);
//  * Lightbox's own: {"files":[{"url":"https://pacs/x/a.dcm","name":"ct/a.dcm","size":12,
//    "mtime":"2026-11-28T01:30:00Z","etag":"\"abc\""}]} (or the bare array). "url" may be absolute,
//    host-relative ("/x/a.dcm") or relative to the listing; "name" (the path the file is known by,
//    default: from the url) and the other keys are optional. mtime may also be an RFC 1123 date
//    or seconds since the epoch.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error/result.hpp"

namespace lightbox::agent::sources::http {

/// One resource (or sub-listing) named by a listing.
struct ListingEntry {
  std::string url;       // absolute URL to GET
  std::string rel_path;  // '/'-separated name relative to the source ("ct/a.dcm")
  bool is_dir = false;   // nginx directory: url is its own listing
  std::optional<std::uint64_t> size;
  std::optional<std::int64_t> mtime_s;
  std::string etag;
};

/// Parses a listing fetched from `listing_url`; entries get `rel_prefix` in front of their
/// names (the sub-folder a recursive nginx listing is in). Entries with unsafe names ("..",
/// absolute, control characters) are skipped; a document of another shape is an error.
Result<std::vector<ListingEntry>> parse_listing_json(std::string_view text, const std::string& listing_url,
                                                     const std::string& rel_prefix = {});
/// Resolves `ref` against `base` (absolute URL, "/path" on the same host, or relative to base's folder).
std::string resolve_url(const std::string& base, const std::string& ref);
/// The decoded path of a URL without the leading '/' ("https://h/a%20b/c" -> "a b/c").
std::string url_rel_path(const std::string& url);
/// Dates in listings: RFC 1123, ISO 8601 UTC ("2026-11-28T01:30:00Z") or epoch seconds as text.
std::optional<std::int64_t> parse_listing_time(const std::string& text);

}  // namespace lightbox::agent::sources::http
