#pragma once
// The alert vocabulary: severities, the condition a rule reports, and an alert as stored and
// served (GET /api/v1/alerts). Pure types; no I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace lightbox::hub::alerts {

/// How bad an alert is; ordered, so routing can compare against a channel's minimum.
enum class Severity { info = 0, warning = 1, critical = 2 };

/// "info" | "warning" | "critical".
std::string_view severity_name(Severity s);
/// Parses a severity name; false when unknown.
bool parse_severity(std::string_view s, Severity& out);

/// What makes two conditions the same alert: (rule, institution, agent, subject).
struct AlertKey {
  std::string rule;
  std::string institution;
  std::string agent;
  std::string subject;  // e.g. the source name; "" when the rule has none

  /// "rule|institution|agent|subject", the stored unique key.
  std::string str() const { return rule + "|" + institution + "|" + agent + "|" + subject; }
  bool operator==(const AlertKey&) const = default;
};

/// One rule's finding at one evaluation: this key is in trouble now.
struct Condition {
  AlertKey key;
  Severity severity = Severity::warning;
  std::string message;  // one line, English, with the numbers
};

/// An alert as persisted in index.db. Times are unix ms; 0 = not set.
struct Alert {
  std::int64_t id = 0;
  AlertKey key;
  Severity severity = Severity::warning;
  bool firing = true;  // false = resolved
  std::string message;
  std::int64_t first_fired_ms = 0;
  std::int64_t last_notified_ms = 0;
  std::int64_t resolved_ms = 0;
  std::int64_t acked_ms = 0;
  std::string acked_by;
  std::string ack_note;
  std::int64_t notifications = 0;
  std::int64_t flaps = 0;
  bool notified_open = false;  // a firing/repeat went out for the current episode (a recovery is owed)
};

/// The API shape: {"id","rule","severity","institution","agent","subject","state","message",
/// "first_fired_at","last_notified_at","resolved_at","acked_at","acked_by","notifications","flaps"}.
nlohmann::json to_json(const Alert& a);

}  // namespace lightbox::hub::alerts
