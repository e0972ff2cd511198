#pragma once
// The `alerts` section of the hub config, typed (config/hub.example.jsonc documents every key).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/config/reader.hpp"
#include "common/log/logger.hpp"
#include "hub/alerts/alert.hpp"

namespace lightbox::hub::alerts {

/// Rule names, as used in config, keys and channel routing.
inline constexpr std::string_view kAgentOffline = "agent_offline";
inline constexpr std::string_view kSourceDown = "source_down";
inline constexpr std::string_view kBacklogAge = "backlog_age";
inline constexpr std::string_view kSpoolDisk = "spool_disk";
inline constexpr std::string_view kErrorRate = "error_rate";
inline constexpr std::string_view kAbsence = "absence";

/// One rule's switches and thresholds (rule-specific fields are ignored by the other rules).
struct RuleConfig {
  bool enabled = true;
  Severity severity = Severity::warning;
  std::int64_t for_seconds = 60;     // the condition must hold this long before firing
  std::int64_t repeat_minutes = 60;  // re-notify while firing and not acked; 0 = never
  std::int64_t flap_seconds = 600;   // a re-fire this soon after a recovery reopens silently
  // backlog_age
  std::int64_t max_age_minutes = 60;
  // spool_disk
  std::int64_t min_free_percent = 10;
  // error_rate
  std::int64_t window_minutes = 15;
  std::int64_t min_errors = 10;
  double max_error_ratio = 0.05;  // errors / (errors + uploaded items) in the window
  // absence
  std::vector<int> working_days{1, 2, 3, 4, 5};  // 0 = Sunday .. 6 = Saturday
  std::int64_t after_hour = 11;                  // local hour from which "nothing today" counts
  std::int64_t utc_offset_minutes = 480;         // the institutions' local time (China: +08:00)
  std::int64_t lookback_days = 14;               // working days looked back over
  std::int64_t min_active_days = 5;              // "usually sends": sent on at least this many of them
};

/// A request signature for SMS gateways: HMAC-SHA256 over a template, into a header or a param.
struct SignatureConfig {
  log::Secret secret;
  std::string template_text;     // e.g. "{{timestamp}}\n{{phone}}"
  std::string header;            // header name, or
  std::string param;             // query parameter name
  std::string encoding = "hex";  // hex | base64
};

/// One delivery channel and its routing.
struct ChannelConfig {
  std::string name;
  std::string type;  // webhook | wecom | dingtalk | sms
  log::Secret url;   // robot URLs carry their key: treated as a secret, never logged
  std::string method = "POST";
  std::vector<std::pair<std::string, log::Secret>> headers;
  std::string msgtype = "markdown";     // wecom, dingtalk: markdown | text
  log::Secret secret;                   // dingtalk signing secret (optional)
  std::string body_template;            // sms
  std::vector<std::string> recipients;  // sms phone numbers
  bool has_signature = false;
  SignatureConfig signature;
  std::string ca_file;  // PEM bundle for https; empty = system store
  // Routing.
  Severity min_severity = Severity::info;
  std::vector<std::string> institutions;  // empty = all
  std::vector<std::string> rules;         // empty = all

  /// True when an alert of this rule/severity/institution goes to this channel.
  bool routes(const AlertKey& key, Severity s) const;
};

/// Delivery retry policy.
struct DeliveryConfig {
  std::int64_t timeout_seconds = 10;
  std::int64_t retry_initial_seconds = 5;
  std::int64_t retry_max_seconds = 600;
  std::int64_t max_attempts = 100;
};

/// The whole `alerts` section.
struct AlertsConfig {
  std::int64_t evaluate_seconds = 30;
  std::string hub_name = "lightbox";  // shown in messages
  // "offline" already means three missed beats: fire at once.
  RuleConfig agent_offline{.severity = Severity::critical, .for_seconds = 0};
  RuleConfig source_down;
  RuleConfig backlog_age;
  RuleConfig spool_disk{.severity = Severity::critical};
  RuleConfig error_rate;
  RuleConfig absence{.for_seconds = 0, .repeat_minutes = 240};
  DeliveryConfig delivery;
  std::vector<ChannelConfig> channels;

  /// The rule config by name, or nullptr.
  const RuleConfig* rule(std::string_view name) const;
};

/// Reads `alerts` from `node` (its path is "alerts"); problems name the full key path.
AlertsConfig parse_alerts_config(config::Node& node);

}  // namespace lightbox::hub::alerts
