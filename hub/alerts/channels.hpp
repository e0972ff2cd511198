#pragma once
// What each channel type puts on the wire for one notification: a generic JSON webhook, the
// WeCom and DingTalk robot formats (DingTalk optionally signed), and an HTTP SMS gateway
// described by a template. Pure: rendering happens at send time (DingTalk signatures expire).
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hub/alerts/config.hpp"

namespace lightbox::hub::alerts {

/// One notification for one channel (and recipient).
struct Notice {
  std::string event;      // firing | repeat | resolved
  nlohmann::json alert;   // to_json(Alert) as of the event
  std::string recipient;  // SMS phone number, else ""
  std::string hub_name = "lightbox";
};

/// An HTTP request ready to send.
struct OutboundRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// The one-line text of a notice (SMS, text robots): "[lightbox 告警 ALERT critical] ...".
std::string notice_text(const Notice& n);
/// The markdown body of a notice for WeCom / DingTalk.
std::string notice_markdown(const Notice& n, bool wecom);
/// Replaces {{name}} in `tmpl` with vars[name], passed through `escape`; unknown names stay as is.
std::string fill_template(const std::string& tmpl, const std::map<std::string, std::string>& vars,
                          std::string (*escape)(std::string_view));
/// The request for `ch` at `now_ms` (unix ms; DingTalk and SMS signatures use it).
OutboundRequest render(const ChannelConfig& ch, const Notice& n, std::int64_t now_ms);

}  // namespace lightbox::hub::alerts
