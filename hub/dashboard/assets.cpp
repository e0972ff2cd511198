#include "hub/dashboard/assets.hpp"

namespace lightbox::hub::dashboard {

const Asset* find_asset(std::string_view path) {
  if (path.empty()) path = "index.html";
  for (const auto& a : assets())
    if (a.path == path) return &a;
  return nullptr;
}

}  // namespace lightbox::hub::dashboard
