#include "hub/fleet/heartbeat.hpp"

namespace lightbox::hub::fleet {
namespace {

Status need_int(const nlohmann::json& obj, const char* key, const std::string& path, std::int64_t& out,
                std::int64_t min = 0) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer())
    return fail(Errc::invalid_argument, "must be an integer", path + key);
  out = it->get<std::int64_t>();
  if (out < min) return fail(Errc::invalid_argument, "must be >= " + std::to_string(min), path + key);
  return {};
}

Status need_object(const nlohmann::json& obj, const char* key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_object())
    return fail(Errc::invalid_argument, "must be an object", path + key);
  return {};
}

}  // namespace

const char* health_name(Health h) {
  switch (h) {
    case Health::healthy:
      return "healthy";
    case Health::degraded:
      return "degraded";
    case Health::offline:
      return "offline";
  }
  return "offline";
}

Result<Beat> parse_heartbeat(const nlohmann::json& j) {
  if (!j.is_object()) return fail(Errc::invalid_argument, "heartbeat must be a JSON object", "body");
  Beat b;
  b.body = j;
  if (!j.contains("version") || !j["version"].is_string())
    return fail(Errc::invalid_argument, "must be a string", "version");
  std::int64_t ignored = 0;
  if (auto s = need_int(j, "interval_seconds", "", b.interval_s, 1); !s) return std::move(s).error();
  if (b.interval_s > 86400) return fail(Errc::invalid_argument, "must be <= 86400", "interval_seconds");
  if (auto s = need_int(j, "uptime_s", "", ignored); !s) return std::move(s).error();
  if (auto s = need_int(j, "clock_ms", "", b.agent_clock_ms, 1); !s) return std::move(s).error();
  if (auto s = need_int(j, "backlog_bytes", "", b.backlog_bytes); !s) return std::move(s).error();
  if (auto s = need_object(j, "queue", ""); !s) return std::move(s).error();
  for (const auto& [k, v] : j["queue"].items())
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0)
      return fail(Errc::invalid_argument, "must be an integer >= 0", "queue." + k);
  if (auto s = need_object(j, "uploaded", ""); !s) return std::move(s).error();
  if (auto s = need_int(j["uploaded"], "items", "uploaded.", b.uploaded_items); !s)
    return std::move(s).error();
  if (auto s = need_int(j["uploaded"], "bytes", "uploaded.", b.uploaded_bytes); !s)
    return std::move(s).error();
  if (auto s = need_object(j, "errors", ""); !s) return std::move(s).error();
  for (const auto& [k, v] : j["errors"].items()) {
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0)
      return fail(Errc::invalid_argument, "must be an integer >= 0", "errors." + k);
    b.errors += v.get<std::int64_t>();
  }
  if (!j.contains("sources") || !j["sources"].is_array())
    return fail(Errc::invalid_argument, "must be an array", "sources");
  for (std::size_t i = 0; i < j["sources"].size(); ++i) {
    const auto& s = j["sources"][i];
    const std::string path = "sources[" + std::to_string(i) + "]";
    if (!s.is_object() || !s.contains("name") || !s["name"].is_string())
      return fail(Errc::invalid_argument, "must be an object with a string name", path + ".name");
    if (s.contains("last_error") && !s["last_error"].is_null() && !s["last_error"].is_string())
      return fail(Errc::invalid_argument, "must be a string or null", path + ".last_error");
    if (s.contains("last_error") && s["last_error"].is_string() &&
        !s["last_error"].get<std::string>().empty())
      b.failing_sources.push_back(s["name"].get<std::string>() + ": " + s["last_error"].get<std::string>());
  }
  if (auto s = need_object(j, "spool", ""); !s) return std::move(s).error();
  const auto& sp = j["spool"];
  if (auto s = need_int(sp, "total_bytes", "spool.", b.spool_total); !s) return std::move(s).error();
  if (auto s = need_int(sp, "free_bytes", "spool.", b.spool_free); !s) return std::move(s).error();
  if (!sp.contains("disk_full") || !sp["disk_full"].is_boolean())
    return fail(Errc::invalid_argument, "must be true or false", "spool.disk_full");
  b.disk_full = sp["disk_full"].get<bool>();
  return b;
}

Assessment assess(const std::vector<Beat>& recent, std::int64_t now_ms) {
  Assessment a;
  if (recent.empty()) {
    a.reasons.push_back("never seen");
    return a;
  }
  const Beat& last = recent.front();
  const std::int64_t silent_ms = now_ms - last.received_ms;
  if (silent_ms > 3 * last.interval_s * 1000) {
    a.reasons.push_back("no heartbeat for " + std::to_string(silent_ms / 1000) + " s");
    return a;
  }
  for (const auto& s : last.failing_sources) a.reasons.push_back("source error: " + s);
  if (last.disk_full) a.reasons.push_back("spool disk full");
  if (last.spool_total > 0 && last.spool_free * 10 < last.spool_total)
    a.reasons.push_back("spool disk under 10 % free");
  if (recent.size() >= 3 && recent[0].backlog_bytes > recent[1].backlog_bytes &&
      recent[1].backlog_bytes > recent[2].backlog_bytes)
    a.reasons.push_back("backlog growing");
  if (last.errors > 0) a.reasons.push_back(std::to_string(last.errors) + " errors since the previous beat");
  a.status = a.reasons.empty() ? Health::healthy : Health::degraded;
  return a;
}

}  // namespace lightbox::hub::fleet
