#include "hub/alerts/config.hpp"

#include <algorithm>
#include <array>
#include <set>

namespace lightbox::hub::alerts {
namespace {

constexpr std::array<std::string_view, 7> kDayNames{"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

// "key[i]": the path of one array element.
std::string indexed(std::string_view key, std::size_t i) {
  std::string out(key);
  out += '[';
  out += std::to_string(i);
  out += ']';
  return out;
}

void get_severity(config::Node& n, Severity& out) {
  std::string s(severity_name(out));
  n.get_enum("severity", s, {"info", "warning", "critical"});
  (void)parse_severity(s, out);
}

RuleConfig parse_rule(config::Node& parent, std::string_view name, RuleConfig r) {
  auto n = parent.child(name);
  n.get("enabled", r.enabled);
  get_severity(n, r.severity);
  n.get_int("for_seconds", r.for_seconds, 0, 86400);
  n.get_int("repeat_minutes", r.repeat_minutes, 0, 7 * 1440);
  n.get_int("flap_seconds", r.flap_seconds, 0, 86400);
  if (name == kBacklogAge) n.get_int("max_age_minutes", r.max_age_minutes, 1, 30 * 1440);
  if (name == kSpoolDisk) n.get_int("min_free_percent", r.min_free_percent, 1, 99);
  if (name == kErrorRate) {
    n.get_int("window_minutes", r.window_minutes, 1, 1440);
    n.get_int("min_errors", r.min_errors, 1, 1000000);
    n.get("max_error_ratio", r.max_error_ratio);
    if (r.max_error_ratio < 0 || r.max_error_ratio > 1) n.problem("max_error_ratio", "must be within [0, 1]");
  }
  if (name == kAbsence) {
    if (n.has("working_days")) {
      std::vector<std::string> days;
      n.get("working_days", days);
      r.working_days.clear();
      for (std::size_t i = 0; i < days.size(); ++i) {
        auto it = std::find(kDayNames.begin(), kDayNames.end(), days[i]);
        if (it == kDayNames.end()) {
          n.problem(indexed("working_days", i), "must be one of sun, mon, tue, wed, thu, fri, sat");
          continue;
        }
        r.working_days.push_back(static_cast<int>(it - kDayNames.begin()));
      }
      if (days.empty()) n.problem("working_days", "must list at least one day");
    }
    n.get_int("after_hour", r.after_hour, 0, 23);
    n.get_int("utc_offset_minutes", r.utc_offset_minutes, -720, 840);
    n.get_int("lookback_days", r.lookback_days, 1, 90);
    n.get_int("min_active_days", r.min_active_days, 1, 90);
    if (r.min_active_days > r.lookback_days) n.problem("min_active_days", "must be <= lookback_days");
  }
  n.finish();
  return r;
}

ChannelConfig parse_channel(config::Node& n, std::set<std::string>& names) {
  ChannelConfig c;
  n.get("name", c.name, true);
  if (n.has("name") && c.name.empty()) n.problem("name", "must not be empty");
  if (!c.name.empty() && !names.insert(c.name).second)
    n.problem("name", "duplicate channel name '" + c.name + "'");
  n.get_enum("type", c.type, {"webhook", "wecom", "dingtalk", "sms"}, true);
  std::string url;
  n.get("url", url, true);
  if (n.has("url") && url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    n.problem("url", "must start with http:// or https://");
  c.url = log::Secret(url);
  n.get("ca_file", c.ca_file);
  {
    auto h = n.child("headers");
    for (const auto& k : h.keys()) {
      std::string v;
      h.get(k, v);
      c.headers.emplace_back(k, log::Secret(v));
    }
    h.finish();
  }
  if (c.type == "wecom" || c.type == "dingtalk") n.get_enum("msgtype", c.msgtype, {"markdown", "text"});
  if (c.type == "dingtalk") {
    std::string secret;
    n.get("secret", secret);
    c.secret = log::Secret(secret);
  }
  if (c.type == "sms" || c.type == "webhook") n.get_enum("method", c.method, {"POST", "PUT", "GET"});
  if (c.type == "sms") {
    n.get("body", c.body_template);
    n.get("recipients", c.recipients, true);
    if (n.has("recipients") && c.recipients.empty())
      n.problem("recipients", "must list at least one phone number");
    if (n.has("signature")) {
      auto s = n.child("signature");
      c.has_signature = true;
      std::string secret;
      s.get("secret", secret, true);
      c.signature.secret = log::Secret(secret);
      s.get("template", c.signature.template_text, true);
      s.get("header", c.signature.header);
      s.get("param", c.signature.param);
      s.get_enum("encoding", c.signature.encoding, {"hex", "base64"});
      if (c.signature.header.empty() == c.signature.param.empty())
        s.problem("header", "set exactly one of header or param");
      s.finish();
    }
  }
  std::string min = std::string(severity_name(c.min_severity));
  n.get_enum("min_severity", min, {"info", "warning", "critical"});
  (void)parse_severity(min, c.min_severity);
  n.get("institutions", c.institutions);
  n.get("rules", c.rules);
  for (std::size_t i = 0; i < c.rules.size(); ++i) {
    const auto& r = c.rules[i];
    if (r != kAgentOffline && r != kSourceDown && r != kBacklogAge && r != kSpoolDisk && r != kErrorRate &&
        r != kAbsence)
      n.problem(indexed("rules", i), "'" + r + "' is not a rule");
  }
  n.finish();
  return c;
}

}  // namespace

bool ChannelConfig::routes(const AlertKey& key, Severity s) const {
  if (static_cast<int>(s) < static_cast<int>(min_severity)) return false;
  if (!institutions.empty() &&
      std::find(institutions.begin(), institutions.end(), key.institution) == institutions.end())
    return false;
  if (!rules.empty() && std::find(rules.begin(), rules.end(), key.rule) == rules.end()) return false;
  return true;
}

const RuleConfig* AlertsConfig::rule(std::string_view name) const {
  if (name == kAgentOffline) return &agent_offline;
  if (name == kSourceDown) return &source_down;
  if (name == kBacklogAge) return &backlog_age;
  if (name == kSpoolDisk) return &spool_disk;
  if (name == kErrorRate) return &error_rate;
  if (name == kAbsence) return &absence;
  return nullptr;
}

AlertsConfig parse_alerts_config(config::Node& n) {
  AlertsConfig c;
  n.get_int("evaluate_seconds", c.evaluate_seconds, 1, 3600);
  n.get("hub_name", c.hub_name);
  {
    auto rules = n.child("rules");
    c.agent_offline = parse_rule(rules, kAgentOffline, c.agent_offline);
    c.source_down = parse_rule(rules, kSourceDown, c.source_down);
    c.backlog_age = parse_rule(rules, kBacklogAge, c.backlog_age);
    c.spool_disk = parse_rule(rules, kSpoolDisk, c.spool_disk);
    c.error_rate = parse_rule(rules, kErrorRate, c.error_rate);
    c.absence = parse_rule(rules, kAbsence, c.absence);
    rules.finish();
  }
  {
    auto d = n.child("delivery");
    d.get_int("timeout_seconds", c.delivery.timeout_seconds, 1, 300);
    d.get_int("retry_initial_seconds", c.delivery.retry_initial_seconds, 1, 3600);
    d.get_int("retry_max_seconds", c.delivery.retry_max_seconds, 1, 86400);
    d.get_int("max_attempts", c.delivery.max_attempts, 1, 100000);
    d.finish();
  }
  std::set<std::string> names;
  for (auto& ch : n.items("channels")) c.channels.push_back(parse_channel(ch, names));
  n.finish();
  return c;
}

}  // namespace lightbox::hub::alerts
