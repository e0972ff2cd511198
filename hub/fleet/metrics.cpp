#include "hub/fleet/metrics.hpp"

#include <cstdio>
#include <map>

namespace lightbox::hub::fleet {

Result<std::string> render_metrics(const Metrics& m, FleetRepository& repo, std::int64_t now_ms) {
  auto totals = repo.store_totals();
  if (!totals) return std::move(totals).error();
  auto agents = repo.agents("");
  if (!agents) return std::move(agents).error();
  std::map<std::string, std::int64_t> by_health{{"healthy", 0}, {"degraded", 0}, {"offline", 0}};
  for (const auto& a : *agents) ++by_health[health_name(assess(a.recent, now_ms).status)];

  std::string out;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", m.uptime_seconds());
  out += "# HELP lightbox_hub_uptime_seconds Seconds since the hub started.\n";
  out += "# TYPE lightbox_hub_uptime_seconds gauge\n";
  out += std::string("lightbox_hub_uptime_seconds ") + buf + "\n";
  out += "# HELP lightbox_hub_requests_total HTTP requests answered, by status class.\n";
  out += "# TYPE lightbox_hub_requests_total counter\n";
  for (int c = 1; c <= 5; ++c)
    out += "lightbox_hub_requests_total{code=\"" + std::to_string(c) + "xx\"} " +
           std::to_string(m.requests(c)) + "\n";
  out += "# HELP lightbox_hub_objects_stored Objects in the content-addressed store.\n";
  out += "# TYPE lightbox_hub_objects_stored gauge\n";
  out += "lightbox_hub_objects_stored " + std::to_string(totals->objects) + "\n";
  out += "# HELP lightbox_hub_bytes_stored Bytes of the objects in the store.\n";
  out += "# TYPE lightbox_hub_bytes_stored gauge\n";
  out += "lightbox_hub_bytes_stored " + std::to_string(totals->bytes) + "\n";
  out += "# HELP lightbox_hub_agents Registered (not revoked) agents by computed health.\n";
  out += "# TYPE lightbox_hub_agents gauge\n";
  for (const auto& [status, n] : by_health)
    out += "lightbox_hub_agents{status=\"" + status + "\"} " + std::to_string(n) + "\n";
  m.latency.render(out);
  return out;
}

}  // namespace lightbox::hub::fleet
