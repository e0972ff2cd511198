// Issue 4 (alerts): what each channel type puts on the wire, signatures checked against values
// computed independently (Python's hmac/base64), and the config reader's errors.
#include "hub/alerts/channels.hpp"

#include <doctest/doctest.h>

#include "hub/alerts/signing.hpp"

using namespace lightbox;
using namespace lightbox::hub::alerts;

namespace {

constexpr std::int64_t kNow = 1795579200000LL;

Notice notice(std::string event = "firing") {
  Alert a;
  a.id = 17;
  a.key = AlertKey{"agent_offline", "hosp-a", "agent-1", ""};
  a.severity = Severity::critical;
  a.message = "agent agent-1 (hosp-a) is offline: no heartbeat for 95 s \"quoted\"";
  a.first_fired_ms = kNow - 60000;
  a.last_notified_ms = kNow - 60000;
  a.notifications = 1;
  if (event == "resolved") {
    a.firing = false;
    a.resolved_ms = kNow;
  }
  return Notice{event, to_json(a), "", "lightbox"};
}

std::string header(const OutboundRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "<absent>";
}

AlertsConfig parse(const std::string& text, config::Problems& problems) {
  auto j = config::load_text(text, problems);
  REQUIRE(j.ok());
  config::Node root(*j, "", problems);
  auto n = root.child("alerts");
  return parse_alerts_config(n);
}

}  // namespace

TEST_CASE("alerts signing: HMAC-SHA256 (RFC 4231 case 2), base64, url encoding") {
  CHECK(hex(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(base64("hello") == "aGVsbG8=");
  CHECK(url_encode("a+b/c=d 中") == "a%2Bb%2Fc%3Dd%20%E4%B8%AD");
}

TEST_CASE("alerts channels: generic webhook JSON") {
  ChannelConfig ch;
  ch.type = "webhook";
  ch.url = log::Secret("http://127.0.0.1:9/hook");
  ch.headers.emplace_back("Authorization", log::Secret("Bearer x"));
  auto r = render(ch, notice(), kNow);
  CHECK(r.method == "POST");
  CHECK(r.url == "http://127.0.0.1:9/hook");
  CHECK(header(r, "Authorization") == "Bearer x");
  CHECK(header(r, "Content-Type") == "application/json");
  auto j = nlohmann::json::parse(r.body);
  CHECK(j["event"] == "firing");
  CHECK(j["alert"]["id"] == 17);
  CHECK(j["alert"]["rule"] == "agent_offline");
  CHECK(j["alert"]["state"] == "firing");
  CHECK(j["alert"]["severity"] == "critical");
  CHECK(j["sent_at"] == "2026-11-25T04:00:00.000Z");
  CHECK(j["text"].get<std::string>().find("告警 ALERT critical") != std::string::npos);
  auto rec = nlohmann::json::parse(render(ch, notice("resolved"), kNow).body);
  CHECK(rec["event"] == "resolved");
  CHECK(rec["alert"]["state"] == "resolved");
  CHECK(rec["text"].get<std::string>().find("恢复 RESOLVED") != std::string::npos);
}

TEST_CASE("alerts channels: WeCom robot markdown and text") {
  ChannelConfig ch;
  ch.type = "wecom";
  ch.url = log::Secret("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K");
  auto j = nlohmann::json::parse(render(ch, notice(), kNow).body);
  CHECK(j["msgtype"] == "markdown");
  const std::string md = j["markdown"]["content"];
  CHECK(md.find("<font color=\"warning\">") != std::string::npos);
  CHECK(md.find("agent_offline") != std::string::npos);
  CHECK(md.find("终端 agent: agent-1") != std::string::npos);
  ch.msgtype = "text";
  j = nlohmann::json::parse(render(ch, notice(), kNow).body);
  CHECK(j["msgtype"] == "text");
  CHECK(j["text"]["content"].get<std::string>().find("#17") != std::string::npos);
}

TEST_CASE("alerts channels: DingTalk robot, signed with timestamp and sign") {
  ChannelConfig ch;
  ch.type = "dingtalk";
  ch.url = log::Secret("https://oapi.dingtalk.com/robot/send?access_token=T");
  auto r = render(ch, notice(), kNow);
  CHECK(r.url == "https://oapi.dingtalk.com/robot/send?access_token=T");
  auto j = nlohmann::json::parse(r.body);
  CHECK(j["msgtype"] == "markdown");
  CHECK(j["markdown"]["title"].get<std::string>().find("告警 ALERT") != std::string::npos);
  CHECK(j["markdown"]["text"].get<std::string>().find("agent-1") != std::string::npos);
  ch.secret = log::Secret("SEC0123456789abcdef");
  r = render(ch, notice(), kNow);
  CHECK(r.url ==
        "https://oapi.dingtalk.com/robot/send?access_token=T&timestamp=1795579200000&sign="
        "mfmuNS2GFqEfCLLBDq0qrzexLJ9s1afMSIyNi1EpsBY%3D");
}

TEST_CASE("alerts channels: SMS gateway template, escaping and signature") {
  ChannelConfig ch;
  ch.type = "sms";
  ch.url = log::Secret("http://127.0.0.1:9/sms/{{phone}}");
  ch.headers.emplace_back("Content-Type", log::Secret("application/json"));
  ch.headers.emplace_back("X-Time", log::Secret("{{timestamp}}"));
  ch.body_template =
      R"({"to":"{{phone}}","text":"{{message}}","level":"{{severity}}","ts":{{timestamp}},"x":"{{nope}}"})";
  ch.has_signature = true;
  ch.signature.secret = log::Secret("gw-secret");
  ch.signature.template_text = "{{timestamp}}\n{{phone}}";
  ch.signature.header = "X-Sign";
  Notice n = notice();
  n.recipient = "+8613800000001";
  auto r = render(ch, n, kNow);
  CHECK(r.url == "http://127.0.0.1:9/sms/%2B8613800000001");
  CHECK(header(r, "X-Time") == "1795579200");
  CHECK(header(r, "X-Sign") == "11064f31dfe0e626b1ecef2f2246b884eb578b21f28f3365d84ef1716552e071");
  auto j = nlohmann::json::parse(r.body);  // quotes in the message are escaped: still JSON
  CHECK(j["to"] == "+8613800000001");
  CHECK(j["level"] == "critical");
  CHECK(j["ts"] == 1795579200);
  CHECK(j["x"] == "{{nope}}");
  CHECK(j["text"].get<std::string>().find("\"quoted\"") != std::string::npos);

  SUBCASE("base64 into a query parameter, form body") {
    ch.url = log::Secret("http://127.0.0.1:9/sms?user=u");
    ch.headers = {{"Content-Type", log::Secret("application/x-www-form-urlencoded")}};
    ch.body_template = "to={{phone}}&msg={{message}}&sig={{signature}}";
    ch.signature.header.clear();
    ch.signature.param = "sign";
    ch.signature.encoding = "base64";
    r = render(ch, n, kNow);
    CHECK(r.url == "http://127.0.0.1:9/sms?user=u&sign=EQZPMd%2Fg5iax7O8vIka4hOtXiyHyjzNl2E7xcWVS4HE%3D");
    CHECK(r.body.rfind("to=%2B8613800000001&msg=%5Blightbox%20", 0) == 0);
    CHECK(r.body.find("&sig=EQZPMd%2Fg5iax7O8vIka4hOtXiyHyjzNl2E7xcWVS4HE%3D") != std::string::npos);
  }
}

TEST_CASE("alerts config: defaults, channels, and errors naming the key path") {
  config::Problems ok;
  auto cfg = parse(R"({"alerts": {
    "evaluate_seconds": 5,
    "rules": {"backlog_age": {"max_age_minutes": 30, "severity": "critical"},
              "absence": {"working_days": ["mon","tue"], "after_hour": 10}},
    "channels": [
      {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:1/x", "min_severity": "warning",
       "institutions": ["h1"], "headers": {"Authorization": "Bearer t"}},
      {"name": "sms", "type": "sms", "url": "https://gw/send", "recipients": ["+86138"],
       "signature": {"secret": "s", "template": "{{timestamp}}", "param": "sign"}}
    ]}})",
                   ok);
  CHECK(ok.empty());
  CHECK(cfg.evaluate_seconds == 5);
  CHECK(cfg.backlog_age.max_age_minutes == 30);
  CHECK(cfg.backlog_age.severity == Severity::critical);
  CHECK(cfg.agent_offline.severity == Severity::critical);
  CHECK(cfg.absence.working_days == std::vector<int>{1, 2});
  REQUIRE(cfg.channels.size() == 2);
  CHECK(cfg.channels[0].routes(AlertKey{"source_down", "h1", "a", "s"}, Severity::warning));
  CHECK_FALSE(cfg.channels[0].routes(AlertKey{"source_down", "h2", "a", "s"}, Severity::critical));
  CHECK_FALSE(cfg.channels[0].routes(AlertKey{"source_down", "h1", "a", "s"}, Severity::info));
  CHECK(cfg.channels[1].has_signature);

  config::Problems bad;
  (void)parse(R"({"alerts": {
    "rules": {"spool_disk": {"min_free_percent": 150}, "nope": {}, "absence": {"working_days": ["funday"]}},
    "channels": [{"name": "x", "type": "pager", "url": "ftp://a"},
                 {"name": "x", "type": "sms", "url": "http://a", "recipients": [],
                  "signature": {"secret": "s", "template": "t", "header": "h", "param": "p"}},
                 {"name": "y", "type": "webhook", "url": "http://a", "rules": ["agent_offline", "typo"],
                  "bogus": 1}]}})",
              bad);
  const std::string all = bad.to_string();
  CHECK(all.find("alerts.rules.spool_disk.min_free_percent") != std::string::npos);
  CHECK(all.find("alerts.rules.nope") != std::string::npos);
  CHECK(all.find("alerts.rules.absence.working_days") != std::string::npos);
  CHECK(all.find("alerts.channels[0].type") != std::string::npos);
  CHECK(all.find("alerts.channels[0].url") != std::string::npos);
  CHECK(all.find("alerts.channels[1].name") != std::string::npos);
  CHECK(all.find("alerts.channels[1].recipients") != std::string::npos);
  CHECK(all.find("alerts.channels[1].signature.header") != std::string::npos);
  CHECK(all.find("alerts.channels[2].rules") != std::string::npos);
  CHECK(all.find("alerts.channels[2].bogus") != std::string::npos);
}
