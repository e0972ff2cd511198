// Issue 4 (dashboard): agent history downsampling, the embedded assets, and the latency histograms.
#include <doctest/doctest.h>

#include "hub/dashboard/assets.hpp"
#include "hub/dashboard/history.hpp"
#include "hub/fleet/latency.hpp"

using namespace lightbox;
using namespace lightbox::hub;

namespace {

fleet::Beat beat(std::int64_t ms, std::int64_t backlog, std::int64_t items, std::int64_t free,
                 std::int64_t errors = 0) {
  fleet::Beat b;
  b.received_ms = ms;
  b.backlog_bytes = backlog;
  b.uploaded_items = items;
  b.uploaded_bytes = items * 100;
  b.spool_free = free;
  b.spool_total = 1000;
  b.errors = errors;
  b.body = {{"oldest_pending_age_seconds", backlog / 10}};
  return b;
}

}  // namespace

TEST_CASE("history: a day of 30 s beats becomes at most 300 points; flows summed, levels worst") {
  const std::int64_t day = 24LL * 3600 * 1000;
  const std::int64_t since = 1'000'000'000'000;
  std::vector<fleet::Beat> beats;
  std::int64_t items = 0;
  for (std::int64_t t = since; t < since + day; t += 30'000) {
    beats.push_back(beat(t, (t - since) / 1000, 2, 900 - ((t - since) / 3'600'000)));
    items += 2;
  }
  beats.push_back(beat(since - 1, 999'999, 1000, 0));        // before the window: ignored
  beats.push_back(beat(since + day + 1, 999'999, 1000, 0));  // after the end: ignored
  auto h = dashboard::downsample(beats, since, since + day);
  CHECK(h.points.size() == 300);
  CHECK(h.bucket_ms == 288'000);
  std::int64_t sum = 0, beats_seen = 0;
  for (const auto& p : h.points) {
    sum += p.uploaded_items;
    beats_seen += p.beats;
  }
  CHECK(sum == items);  // nothing lost or double counted
  CHECK(beats_seen == 2880);
  const auto& first = h.points.front();
  CHECK(first.t_ms == since);
  CHECK(first.backlog_bytes == 270);  // max of the bucket's beats (the last one, at 270 s)
  CHECK(first.oldest_pending_s == 27);
  CHECK(h.points.back().spool_free_bytes == 900 - 23);  // min of the bucket
  CHECK(h.points.back().t_ms == since + 299 * 288'000);

  auto j = dashboard::to_json(h);
  CHECK(j["points"].size() == 300);
  CHECK(j["bucket_seconds"] == 288.0);
  CHECK(j["points"][0]["t"] == dashboard::iso_utc(since));
  CHECK(j["points"][0]["uploaded_bytes"] == 20 * 100);
}

TEST_CASE("history: sparse beats give only non-empty buckets; tiny windows use 1 s buckets") {
  std::vector<fleet::Beat> beats{beat(10'000, 5, 1, 10), beat(10'500, 7, 1, 8, 3), beat(50'000, 1, 0, 9)};
  auto h = dashboard::downsample(beats, 0, 60'000, 300);
  CHECK(h.bucket_ms == 1000);
  REQUIRE(h.points.size() == 2);
  CHECK(h.points[0].t_ms == 10'000);
  CHECK(h.points[0].beats == 2);
  CHECK(h.points[0].backlog_bytes == 7);
  CHECK(h.points[0].spool_free_bytes == 8);
  CHECK(h.points[0].errors == 3);
  CHECK(h.points[1].t_ms == 50'000);
  CHECK(dashboard::downsample({}, 0, 60'000).points.empty());
  // The window's end is inclusive: a beat at until_ms lands in the last bucket.
  auto end = dashboard::downsample({beat(60'000, 1, 4, 9)}, 0, 60'000, 6);
  REQUIRE(end.points.size() == 1);
  CHECK(end.points[0].t_ms == 50'000);
  CHECK(end.points[0].uploaded_items == 4);
}

TEST_CASE("assets: the page and its files are embedded with their content types") {
  const auto* page = dashboard::find_asset("");
  REQUIRE(page != nullptr);
  CHECK(page->path == "index.html");
  CHECK(page->content_type == "text/html; charset=utf-8");
  CHECK(page->bytes.find("/dashboard/app.js") != std::string_view::npos);
  CHECK(page->bytes.find("运维看板") != std::string_view::npos);  // zh-CN first, UTF-8 intact
  const auto* js = dashboard::find_asset("app.js");
  REQUIRE(js != nullptr);
  CHECK(js->content_type == "text/javascript; charset=utf-8");
  CHECK(js->bytes.find("/api/v1/institutions") != std::string_view::npos);
  REQUIRE(dashboard::find_asset("style.css") != nullptr);
  CHECK(dashboard::find_asset("style.css")->content_type == "text/css; charset=utf-8");
  REQUIRE(dashboard::find_asset("i18n.js") != nullptr);
  REQUIRE(dashboard::find_asset("charts.js") != nullptr);
  CHECK(dashboard::find_asset("../index.html") == nullptr);
  CHECK(dashboard::find_asset("nope.js") == nullptr);
  // No inline script or style: the CSP forbids them.
  CHECK(page->bytes.find("<script>") == std::string_view::npos);
  CHECK(page->bytes.find("style=") == std::string_view::npos);
}

TEST_CASE("latency histograms: cumulative buckets, sum and count per route class") {
  fleet::RequestLatency l;
  l.observe_request(fleet::RouteClass::ingest, 0.003);
  l.observe_request(fleet::RouteClass::ingest, 0.2);
  l.observe_request(fleet::RouteClass::ingest, 100.0);  // beyond the last bound: +Inf only
  l.observe_ingest(0.0005);
  l.count_heartbeat();
  l.count_heartbeat();
  CHECK(l.requests(fleet::RouteClass::ingest) == 3);
  CHECK(l.requests(fleet::RouteClass::read) == 0);
  std::string out;
  l.render(out);
  CHECK(out.find("# TYPE lightbox_hub_request_seconds histogram\n") != std::string::npos);
  CHECK(out.find("lightbox_hub_request_seconds_bucket{route=\"ingest\",le=\"0.0025\"} 0\n") !=
        std::string::npos);
  CHECK(out.find("lightbox_hub_request_seconds_bucket{route=\"ingest\",le=\"0.005\"} 1\n") !=
        std::string::npos);
  CHECK(out.find("lightbox_hub_request_seconds_bucket{route=\"ingest\",le=\"0.25\"} 2\n") !=
        std::string::npos);
  CHECK(out.find("lightbox_hub_request_seconds_bucket{route=\"ingest\",le=\"60\"} 2\n") != std::string::npos);
  CHECK(out.find("lightbox_hub_request_seconds_bucket{route=\"ingest\",le=\"+Inf\"} 3\n") !=
        std::string::npos);
  CHECK(out.find("lightbox_hub_request_seconds_count{route=\"ingest\"} 3\n") != std::string::npos);
  CHECK(out.find("lightbox_hub_request_seconds_sum{route=\"ingest\"} 100.203000\n") != std::string::npos);
  CHECK(out.find("lightbox_hub_request_seconds_count{route=\"read\"} 0\n") != std::string::npos);
  CHECK(out.find("lightbox_hub_ingest_seconds_bucket{le=\"0.001\"} 1\n") != std::string::npos);
  CHECK(out.find("lightbox_hub_ingest_seconds_count 1\n") != std::string::npos);
  CHECK(out.find("lightbox_hub_heartbeats_received_total 2\n") != std::string::npos);
}
