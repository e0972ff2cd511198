#include "hub/alerts/channels.hpp"

#include <strings.h>

#include "common/clock/clock.hpp"
#include "hub/alerts/signing.hpp"

namespace lightbox::hub::alerts {
namespace {

std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string raw(std::string_view s) { return std::string(s); }

std::string json_escape(std::string_view s) {
  std::string d = nlohmann::json(std::string(s)).dump();
  return d.substr(1, d.size() - 2);  // without the quotes: the template has them
}

// zh-CN first, English after: the ops team reads Chinese; vendors and logs read English.
const char* event_title(const std::string& event) {
  if (event == "resolved") return "恢复 RESOLVED";
  if (event == "repeat") return "告警持续 STILL FIRING";
  return "告警 ALERT";
}

std::string where(const nlohmann::json& a) {
  std::string w = str(a, "institution");
  if (!str(a, "agent").empty()) w += "/" + str(a, "agent");
  if (!str(a, "subject").empty()) w += "/" + str(a, "subject");
  return w;
}

std::string header_value(const std::vector<std::pair<std::string, std::string>>& h, std::string_view name) {
  for (const auto& [k, v] : h)
    if (k.size() == name.size() && ::strncasecmp(k.c_str(), name.data(), name.size()) == 0) return v;
  return {};
}

std::string with_param(std::string url, const std::string& name, const std::string& value) {
  url += url.find('?') == std::string::npos ? '?' : '&';
  return url + name + "=" + value;
}

}  // namespace

std::string notice_text(const Notice& n) {
  const auto& a = n.alert;
  std::string t = "[" + n.hub_name + " " + event_title(n.event) + " " + str(a, "severity") + "] " +
                  str(a, "rule") + " " + where(a) + ": " + str(a, "message");
  if (n.event == "resolved") t += " (已恢复 resolved)";
  t += " #" + std::to_string(a.value("id", 0));
  return t;
}

std::string notice_markdown(const Notice& n, bool wecom) {
  const auto& a = n.alert;
  const std::string sev = str(a, "severity");
  std::string title = std::string(event_title(n.event)) + " · " + sev;
  if (wecom) {
    const char* color = n.event == "resolved" ? "info" : (sev == "critical" ? "warning" : "comment");
    title = "<font color=\"" + std::string(color) + "\">" + title + "</font>";
  }
  std::string md = "### " + n.hub_name + " " + title + "\n";
  md += "> 规则 rule: **" + str(a, "rule") + "**\n";
  md += "> 机构 institution: " + str(a, "institution") + "\n";
  if (!str(a, "agent").empty()) md += "> 终端 agent: " + str(a, "agent") + "\n";
  if (!str(a, "subject").empty()) md += "> 对象 subject: " + str(a, "subject") + "\n";
  md += "> 首次 first fired: " + str(a, "first_fired_at") + "\n";
  if (n.event == "resolved") md += "> 恢复 resolved: " + str(a, "resolved_at") + "\n";
  md += "\n" + str(a, "message") + " (#" + std::to_string(a.value("id", 0)) + ")";
  return md;
}

std::string fill_template(const std::string& tmpl, const std::map<std::string, std::string>& vars,
                          std::string (*escape)(std::string_view)) {
  std::string out;
  std::size_t pos = 0;
  for (;;) {
    auto open = tmpl.find("{{", pos);
    if (open == std::string::npos) break;
    auto close = tmpl.find("}}", open + 2);
    if (close == std::string::npos) break;
    out.append(tmpl, pos, open - pos);
    auto it = vars.find(tmpl.substr(open + 2, close - open - 2));
    if (it != vars.end())
      out += escape(it->second);
    else
      out.append(tmpl, open, close + 2 - open);
    pos = close + 2;
  }
  out.append(tmpl, pos, std::string::npos);
  return out;
}

OutboundRequest render(const ChannelConfig& ch, const Notice& n, std::int64_t now_ms) {
  OutboundRequest r;
  r.url = ch.url.reveal();
  r.method = ch.method;
  for (const auto& [k, v] : ch.headers) r.headers.emplace_back(k, v.reveal());
  const std::string text = notice_text(n);

  if (ch.type == "webhook") {
    nlohmann::json body{{"event", n.event},
                        {"hub", n.hub_name},
                        {"text", text},
                        {"alert", n.alert},
                        {"sent_at", clock::iso_utc_ms(now_ms)}};
    r.body = body.dump();
    if (header_value(r.headers, "Content-Type").empty())
      r.headers.emplace_back("Content-Type", "application/json");
    return r;
  }
  if (ch.type == "wecom" || ch.type == "dingtalk") {
    const bool wecom = ch.type == "wecom";
    r.method = "POST";
    nlohmann::json body;
    if (ch.msgtype == "text") {
      body = {{"msgtype", "text"}, {"text", {{"content", text}}}};
    } else if (wecom) {
      body = {{"msgtype", "markdown"}, {"markdown", {{"content", notice_markdown(n, true)}}}};
    } else {
      body = {
          {"msgtype", "markdown"},
          {"markdown", {{"title", text.substr(0, text.find(']') + 1)}, {"text", notice_markdown(n, false)}}}};
    }
    r.body = body.dump();
    if (header_value(r.headers, "Content-Type").empty())
      r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
    if (!wecom && !ch.secret.empty()) {
      // DingTalk: sign = urlencode(base64(HmacSHA256(secret, timestamp + "\n" + secret))).
      const std::string ts = std::to_string(now_ms);
      const std::string sign = base64(hmac_sha256(ch.secret.reveal(), ts + "\n" + ch.secret.reveal()));
      r.url = with_param(with_param(r.url, "timestamp", ts), "sign", url_encode(sign));
    }
    return r;
  }
  // sms
  const auto& a = n.alert;
  std::map<std::string, std::string> vars{{"phone", n.recipient},
                                          {"message", text},
                                          {"severity", str(a, "severity")},
                                          {"rule", str(a, "rule")},
                                          {"institution", str(a, "institution")},
                                          {"agent", str(a, "agent")},
                                          {"subject", str(a, "subject")},
                                          {"event", n.event},
                                          {"id", std::to_string(a.value("id", 0))},
                                          {"timestamp", std::to_string(now_ms / 1000)},
                                          {"timestamp_ms", std::to_string(now_ms)},
                                          {"time", clock::iso_utc_ms(now_ms)}};
  if (ch.has_signature) {
    const std::string mac =
        hmac_sha256(ch.signature.secret.reveal(), fill_template(ch.signature.template_text, vars, raw));
    const std::string sig = ch.signature.encoding == "base64" ? base64(mac) : hex(mac);
    vars["signature"] = sig;
    if (!ch.signature.header.empty())
      r.headers.emplace_back(ch.signature.header, sig);
    else
      r.url = with_param(r.url, ch.signature.param, url_encode(sig));
  }
  r.url = fill_template(r.url, vars, url_encode);
  for (auto& [k, v] : r.headers)
    if (k != ch.signature.header || !ch.has_signature) v = fill_template(v, vars, raw);
  const std::string type = header_value(r.headers, "Content-Type");
  auto escape = type.find("json") != std::string::npos                    ? json_escape
                : type.find("x-www-form-urlencoded") != std::string::npos ? url_encode
                                                                          : raw;
  std::string tmpl = ch.body_template;
  if (tmpl.empty()) {
    tmpl =
        R"({"phone":"{{phone}}","message":"{{message}}","severity":"{{severity}}","timestamp":{{timestamp}}})";
    if (type.empty()) {
      r.headers.emplace_back("Content-Type", "application/json");
      escape = json_escape;
    }
  }
  if (r.method != "GET") r.body = fill_template(tmpl, vars, escape);
  return r;
}

}  // namespace lightbox::hub::alerts
