#include "hub/alerts/alert.hpp"

#include "common/clock/clock.hpp"

namespace lightbox::hub::alerts {

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::info:
      return "info";
    case Severity::warning:
      return "warning";
    case Severity::critical:
      return "critical";
  }
  return "warning";
}

bool parse_severity(std::string_view s, Severity& out) {
  if (s == "info")
    out = Severity::info;
  else if (s == "warning")
    out = Severity::warning;
  else if (s == "critical")
    out = Severity::critical;
  else
    return false;
  return true;
}

nlohmann::json to_json(const Alert& a) {
  auto opt_time = [](std::int64_t ms) {
    return ms ? nlohmann::json(clock::iso_utc_ms(ms)) : nlohmann::json(nullptr);
  };
  return {
      {"id", a.id},
      {"rule", a.key.rule},
      {"severity", severity_name(a.severity)},
      {"institution", a.key.institution},
      {"agent", a.key.agent},
      {"subject", a.key.subject},
      {"state", a.firing ? "firing" : "resolved"},
      {"message", a.message},
      {"first_fired_at", opt_time(a.first_fired_ms)},
      {"last_notified_at", opt_time(a.last_notified_ms)},
      {"resolved_at", opt_time(a.resolved_ms)},
      {"acked_at", opt_time(a.acked_ms)},
      {"acked_by", a.acked_ms ? nlohmann::json(a.acked_by) : nlohmann::json(nullptr)},
      {"ack_note", a.acked_ms && !a.ack_note.empty() ? nlohmann::json(a.ack_note) : nlohmann::json(nullptr)},
      {"notifications", a.notifications},
      {"flaps", a.flaps}};
}

}  // namespace lightbox::hub::alerts
