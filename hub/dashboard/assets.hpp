#pragma once
// The dashboard's static files (hub/dashboard/static/), embedded into the hub at build time by
// embed.cmake: the hub needs nothing on disk to serve /dashboard/.
#include <span>
#include <string_view>

namespace lightbox::hub::dashboard {

/// One embedded file.
struct Asset {
  std::string_view path;          // relative to static/, e.g. "app.js"
  std::string_view content_type;  // from the extension
  std::string_view bytes;
};

/// Every embedded file (generated code).
std::span<const Asset> assets();

/// The asset at `path` ("" and "index.html" are the page), or nullptr.
const Asset* find_asset(std::string_view path);

}  // namespace lightbox::hub::dashboard
