#include "agent/sources/dicom/dicom_config.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace lightbox::agent::sources::dicom {

bool is_valid_ae_title(const std::string& ae) {
  if (ae.empty() || ae.size() > 16) return false;
  bool any = false;
  for (unsigned char c : ae) {
    if (c < 0x20 || c > 0x7e || c == '\\') return false;
    any = any || c != ' ';
  }
  return any;
}

namespace {

// DICOM pads AE titles with spaces; compare without them.
std::string trim(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

void read_ae(config::Node& n, std::string_view key, std::string& out, bool required) {
  n.get(key, out, required);
  if (n.has(key) && !is_valid_ae_title(out))
    n.problem(key, "must be an AE title of 1-16 printable characters without '\\'");
}

}  // namespace

DicomConfig parse_dicom_config(config::Node& n, DicomConfig c) {
  read_ae(n, "ae_title", c.ae_title, false);
  n.get("listen_address", c.listen_address);
  if (n.has("listen_address") && c.listen_address.empty()) n.problem("listen_address", "must not be empty");
  n.get_int("port", c.port, 1, 65535);
  for (auto& p : n.items("accepted_peers")) {
    AcceptedPeer a;
    read_ae(p, "ae_title", a.ae_title, true);
    p.get("host", a.host);
    p.finish();
    c.accepted_peers.push_back(std::move(a));
  }
  std::string retrieve = "move";
  n.get_enum("retrieve", retrieve, {"move", "get", "none"});
  c.retrieve = retrieve == "get" ? Retrieve::get : retrieve == "none" ? Retrieve::none : Retrieve::move;
  if (n.has("peer")) {
    auto p = n.child("peer");
    PeerPacs pacs;
    read_ae(p, "ae_title", pacs.ae_title, true);
    p.get("host", pacs.host, true);
    if (p.has("host") && pacs.host.empty()) p.problem("host", "must not be empty");
    p.get_int("port", pacs.port, 1, 65535, true);
    p.finish();
    c.peer = pacs;
  } else if (c.retrieve != Retrieve::none) {
    n.problem("peer", "is required when retrieve is \"" + retrieve + "\" (the PACS to query)");
  }
  if (c.retrieve == Retrieve::none && c.accepted_peers.empty())
    n.problem("accepted_peers", "must list at least one peer when retrieve is \"none\" (nobody could send)");
  n.get_int("window_days", c.window_days, 1, 3650);
  n.get_int("stable_seconds", c.stable_seconds, 1, 86400);
  n.get_int("max_retries", c.max_retries, 0, 100);
  n.get_int("connect_timeout_seconds", c.connect_timeout_seconds, 1, 600);
  n.get_int("dimse_timeout_seconds", c.dimse_timeout_seconds, 1, 3600);
  return c;
}

std::optional<std::string> refusal_reason(const DicomConfig& cfg, const std::string& calling_ae,
                                          const std::string& called_ae, const std::string& host) {
  const std::string calling = trim(calling_ae);
  const std::string called = trim(called_ae);
  if (called != cfg.ae_title) return "called AE title " + called + " is not ours (" + cfg.ae_title + ")";
  bool listed = false;
  for (const auto& p : cfg.accepted_peers) {
    if (p.ae_title != calling) continue;
    listed = true;
    if (p.host.empty() || p.host == host) return std::nullopt;
  }
  if (listed)
    return "calling AE title " + calling + " is accepted only from its configured host, not from " + host;
  if (cfg.peer && cfg.peer->ae_title == calling) return std::nullopt;  // the PACS we retrieve from
  return "calling AE title " + calling + " is not in accepted_peers";
}

std::string study_date_range(Ymd today, std::int64_t window_days) {
  using namespace std::chrono;
  const year_month_day end{year{today.year}, month{today.month}, day{today.day}};
  const year_month_day start{sys_days{end} - days{std::max<std::int64_t>(1, window_days) - 1}};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02u-%04d%02u%02u", int(start.year()), unsigned(start.month()),
                unsigned(start.day()), int(end.year()), unsigned(end.month()), unsigned(end.day()));
  return buf;
}

Ymd local_today() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  return Ymd{tm.tm_year + 1900, static_cast<unsigned>(tm.tm_mon + 1), static_cast<unsigned>(tm.tm_mday)};
}

}  // namespace lightbox::agent::sources::dicom
