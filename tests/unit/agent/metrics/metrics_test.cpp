#include <doctest/doctest.h>

#include "agent/metrics/metrics.hpp"
#include "agent/metrics/server.hpp"

using namespace lightbox::agent;

namespace {

// The value of the first line starting with `series ` ("" when absent).
std::string value_of(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return "";
  at += series.size() + 2;
  return text.substr(at, text.find('\n', at) - at);
}

}  // namespace

TEST_CASE("render: queue gauges come from the snapshot") {
  metrics::AgentMetrics m(1'000'000);
  report::Snapshot q;
  q.now_ms = 1'100'000;
  q.counts.by_state[static_cast<int>(queue::State::verified)] = 3;
  q.counts.by_state[static_cast<int>(queue::State::done)] = 7;
  q.counts.records_by_state[static_cast<int>(queue::State::failed)] = 2;
  q.counts.backlog_bytes = 4096;
  q.counts.oldest_pending_at = 1'040'000;
  q.sources.push_back({"ct", "folder", 1'090'000, "", 5, ""});
  auto text = "\n" + m.render(q, "");
  CHECK(value_of(text, "lightbox_agent_queue_readable") == "1");
  CHECK(value_of(text, "lightbox_agent_queue_items{state=\"verified\"}") == "3");
  CHECK(value_of(text, "lightbox_agent_queue_items{state=\"done\"}") == "7");
  CHECK(value_of(text, "lightbox_agent_queue_items{state=\"collected\"}") == "0");
  CHECK(value_of(text, "lightbox_agent_queue_record_batches{state=\"failed\"}") == "2");
  CHECK(value_of(text, "lightbox_agent_backlog_bytes") == "4096");
  CHECK(value_of(text, "lightbox_agent_oldest_pending_age_seconds") == "60");
  CHECK(value_of(text, "lightbox_agent_source_last_scan_timestamp_seconds{source=\"ct\"}") == "1090");
  CHECK(value_of(text, "lightbox_agent_start_time_seconds") == "1000");
  CHECK(text.find("# TYPE lightbox_agent_upload_seconds histogram") != std::string::npos);
}

TEST_CASE("render: an unreadable queue drops the queue gauges, keeps the counters") {
  metrics::AgentMetrics m(0);
  auto text = "\n" + m.render({}, "db_error: locked");
  CHECK(value_of(text, "lightbox_agent_queue_readable") == "0");
  CHECK(text.find("lightbox_agent_queue_items") == std::string::npos);
  CHECK(value_of(text, "lightbox_agent_delivered_bytes_total") == "0");
}

TEST_CASE("attempts: delivered totals, errors by kind, histogram is cumulative, cancelled ignored") {
  metrics::AgentMetrics m(0);
  m.record_attempt({"dicom", 100, 0.02, true, false, ""});
  m.record_attempt({"dicom", 50, 0.3, true, true, ""});
  m.record_attempt({"records", 10, 0.005, true, false, ""});
  m.record_attempt({"dicom", 100, 7.0, false, false, "unreachable"});
  m.record_attempt({"dicom", 100, 400.0, false, false, "unreachable"});
  m.record_attempt({"dicom", 100, 1.0, false, false, "cancelled"});
  CHECK(m.delivered_totals() == std::pair<std::int64_t, std::int64_t>(2, 150));
  auto text = "\n" + m.render({}, "");
  CHECK(value_of(text, "lightbox_agent_delivered_items_total{result=\"uploaded\"}") == "1");
  CHECK(value_of(text, "lightbox_agent_delivered_items_total{result=\"already_stored\"}") == "1");
  CHECK(value_of(text, "lightbox_agent_delivered_items_total{result=\"records\"}") == "1");
  CHECK(value_of(text, "lightbox_agent_delivered_bytes_total") == "150");
  CHECK(value_of(text, "lightbox_agent_upload_errors_total{kind=\"unreachable\"}") == "2");
  CHECK(text.find("kind=\"cancelled\"") == std::string::npos);
  CHECK(value_of(text, "lightbox_agent_upload_seconds_bucket{le=\"0.01\"}") == "1");
  CHECK(value_of(text, "lightbox_agent_upload_seconds_bucket{le=\"0.025\"}") == "2");
  CHECK(value_of(text, "lightbox_agent_upload_seconds_bucket{le=\"0.5\"}") == "3");
  CHECK(value_of(text, "lightbox_agent_upload_seconds_bucket{le=\"10\"}") == "4");
  CHECK(value_of(text, "lightbox_agent_upload_seconds_bucket{le=\"300\"}") == "4");
  CHECK(value_of(text, "lightbox_agent_upload_seconds_bucket{le=\"+Inf\"}") == "5");
  CHECK(value_of(text, "lightbox_agent_upload_seconds_count") == "5");
  CHECK(std::stod(value_of(text, "lightbox_agent_upload_seconds_sum")) == doctest::Approx(407.325));
}

TEST_CASE("scans and reloads") {
  metrics::AgentMetrics m(0);
  m.record_scan("ct", true, 5'000);
  m.record_scan("mr\"x", false, 6'000);
  m.record_scan("ct", false, 7'000);
  m.record_scan("us", true, 1'764'303'311'512);  // a real timestamp keeps its milliseconds
  m.record_reload(true, 9'000);
  m.record_reload(false, 10'000);
  auto text = "\n" + m.render({}, "");
  CHECK(value_of(text, "lightbox_agent_source_up{source=\"ct\"}") == "0");
  CHECK(value_of(text, "lightbox_agent_source_last_success_timestamp_seconds{source=\"ct\"}") == "5");
  CHECK(value_of(text, "lightbox_agent_scan_errors_total{source=\"ct\"}") == "1");
  CHECK(value_of(text, "lightbox_agent_scan_errors_total{source=\"mr\\\"x\"}") == "1");
  CHECK(value_of(text, "lightbox_agent_source_last_success_timestamp_seconds{source=\"us\"}") == "1764303311.512");
  CHECK(value_of(text, "lightbox_agent_reloads_total{result=\"applied\"}") == "1");
  CHECK(value_of(text, "lightbox_agent_reloads_total{result=\"refused\"}") == "1");
  CHECK(value_of(text, "lightbox_agent_last_reload_timestamp_seconds") == "9");
  m.keep_sources({"ct", "us"});  // a reload removed "mr\"x"
  text = "\n" + m.render({}, "");
  CHECK(text.find("mr\\\"x") == std::string::npos);
  CHECK(value_of(text, "lightbox_agent_scan_errors_total{source=\"ct\"}") == "1");
}

TEST_CASE("respond: GET /metrics renders, other paths and methods do not") {
  int calls = 0;
  metrics::Server::Render render = [&] {
    ++calls;
    return std::string("x 1\n");
  };
  auto ok = metrics::respond("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", render);
  CHECK(ok.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(ok.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
  CHECK(ok.find("Content-Length: 4\r\n") != std::string::npos);
  CHECK(ok.substr(ok.size() - 4) == "x 1\n");
  CHECK(metrics::respond("GET /metrics?x=1 HTTP/1.0\r\n\r\n", render).rfind("HTTP/1.1 200", 0) == 0);
  CHECK(calls == 2);
  CHECK(metrics::respond("GET / HTTP/1.1\r\n\r\n", render).rfind("HTTP/1.1 404", 0) == 0);
  CHECK(metrics::respond("POST /metrics HTTP/1.1\r\n\r\n", render).rfind("HTTP/1.1 405", 0) == 0);
  CHECK(metrics::respond("garbage\r\n\r\n", render).rfind("HTTP/1.1 400", 0) == 0);
  CHECK(calls == 2);
}
