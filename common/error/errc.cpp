#include "common/error/errc.hpp"

#include <array>

#include <nlohmann/json.hpp>

namespace lightbox {
namespace {

struct Row {
  Errc code;
  std::string_view name;
  int http;
  bool transient;
};

// The one table: code -> wire name, HTTP status, retry semantics.
constexpr std::array kTable{
    Row{Errc::ok, "ok", 200, false},
    Row{Errc::invalid_argument, "invalid_argument", 400, false},
    Row{Errc::invalid_config, "invalid_config", 400, false},
    Row{Errc::not_found, "not_found", 404, false},
    Row{Errc::unauthorized, "unauthorized", 401, false},
    Row{Errc::forbidden, "forbidden", 403, false},
    Row{Errc::conflict, "conflict", 409, false},
    Row{Errc::hash_mismatch, "hash_mismatch", 400, false},
    Row{Errc::payload_too_large, "payload_too_large", 413, false},
    Row{Errc::unsupported_media, "unsupported_media", 415, false},
    Row{Errc::rejected, "rejected", 422, false},
    Row{Errc::storage_full, "storage_full", 507, true},
    Row{Errc::io_error, "io_error", 500, true},
    Row{Errc::db_error, "db_error", 500, true},
    Row{Errc::network, "network", 502, true},
    Row{Errc::timeout, "timeout", 504, true},
    Row{Errc::busy, "busy", 503, true},
    Row{Errc::upstream, "upstream", 502, true},
    Row{Errc::cancelled, "cancelled", 499, true},
    Row{Errc::internal, "internal", 500, true},
};

const Row& row(Errc e) noexcept {
  for (const auto& r : kTable)
    if (r.code == e) return r;
  return kTable.back();
}

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "lightbox"; }
  std::string message(int ev) const override { return std::string(errc_name(static_cast<Errc>(ev))); }
};

}  // namespace

const std::error_category& lightbox_category() noexcept {
  static const Category c;
  return c;
}

std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), lightbox_category()}; }

std::string_view errc_name(Errc e) noexcept { return row(e).name; }

Errc errc_from_name(std::string_view name) noexcept {
  for (const auto& r : kTable)
    if (r.name == name) return r.code;
  return Errc::internal;
}

int http_status(Errc e) noexcept { return row(e).http; }

bool is_transient(Errc e) noexcept { return row(e).transient; }

Errc errc_from_http_status(int status) noexcept {
  switch (status) {
    case 400: return Errc::invalid_argument;
    case 401: return Errc::unauthorized;
    case 403: return Errc::forbidden;
    case 404: return Errc::not_found;
    case 408: return Errc::timeout;
    case 409: return Errc::conflict;
    case 413: return Errc::payload_too_large;
    case 415: return Errc::unsupported_media;
    case 422: return Errc::rejected;
    case 429: return Errc::busy;
    case 503: return Errc::busy;
    case 504: return Errc::timeout;
    case 507: return Errc::storage_full;
    default:
      if (status >= 500) return Errc::upstream;
      if (status >= 400) return Errc::invalid_argument;
      return Errc::ok;
  }
}

nlohmann::json Error::to_json() const {
  nlohmann::json j{{"error", errc_name(code)}, {"message", message}};
  j["field"] = field.empty() ? nlohmann::json(nullptr) : nlohmann::json(field);
  return j;
}

Error Error::from_json(const nlohmann::json& j) {
  Error e;
  if (!j.is_object()) return Error{Errc::internal, "error body is not a JSON object", {}};
  if (auto it = j.find("error"); it != j.end() && it->is_string()) e.code = errc_from_name(it->get<std::string>());
  if (auto it = j.find("message"); it != j.end() && it->is_string()) e.message = it->get<std::string>();
  if (auto it = j.find("field"); it != j.end() && it->is_string()) e.field = it->get<std::string>();
  return e;
}

std::string Error::to_string() const {
  std::string s(errc_name(code));
  if (!field.empty()) s += " (" + field + ")";
  if (!message.empty()) s += ": " + message;
  return s;
}

}  // namespace lightbox
