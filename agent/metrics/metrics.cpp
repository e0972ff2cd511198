#include "agent/metrics/metrics.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

namespace lightbox::agent::metrics {
namespace {

// Numbers as Prometheus expects them: integers plainly, others with enough digits.
std::string num(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<std::int64_t>(v));
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest exact form: timestamps keep their ms
  return std::string(buf, r.ptr);
}

void head(std::ostringstream& o, std::string_view name, std::string_view type, std::string_view help) {
  o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

}  // namespace

std::string escape_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void Histogram::observe(double seconds) {
  std::size_t i = 0;
  while (i < kUploadBuckets.size() && seconds > kUploadBuckets[i]) ++i;
  ++counts[i];
  sum += seconds;
  ++count;
}

void AgentMetrics::record_attempt(const Attempt& a) {
  std::lock_guard lock(mu_);
  if (a.error_code == "cancelled") return;  // a stop or reload cut it short: not the hub's fault, not a latency
  latency_.observe(a.seconds);
  if (a.delivered) {
    if (a.kind == "records") {
      ++records_;
    } else {
      ++(a.already_stored ? already_stored_ : uploaded_);
      bytes_ += a.bytes;
    }
    return;
  }
  ++failed_attempts_;
  ++errors_[a.error_code.empty() ? std::string("unknown") : std::string(a.error_code)];
}

void AgentMetrics::record_scan(const std::string& source, bool ok, std::int64_t unix_ms) {
  std::lock_guard lock(mu_);
  auto& s = sources_[source];
  s.up = ok;
  if (ok) s.last_success_ms = unix_ms;
  else ++s.scan_errors;
}

void AgentMetrics::keep_sources(const std::vector<std::string>& names) {
  std::set<std::string> keep(names.begin(), names.end());
  std::lock_guard lock(mu_);
  for (auto it = sources_.begin(); it != sources_.end();) it = keep.count(it->first) ? std::next(it) : sources_.erase(it);
}

void AgentMetrics::record_reload(bool ok, std::int64_t unix_ms) {
  std::lock_guard lock(mu_);
  ++(ok ? reloads_ok_ : reloads_refused_);
  if (ok) last_reload_ms_ = unix_ms;
}

std::pair<std::int64_t, std::int64_t> AgentMetrics::delivered_totals() const {
  std::lock_guard lock(mu_);
  return {uploaded_ + already_stored_, bytes_};
}

std::string AgentMetrics::render(const report::Snapshot& q, const std::string& queue_error) const {
  std::ostringstream o;
  head(o, "lightbox_agent_queue_readable", "gauge", "1 when queue.db could be read for this scrape.");
  o << "lightbox_agent_queue_readable " << (queue_error.empty() ? 1 : 0) << '\n';
  if (queue_error.empty()) {
    head(o, "lightbox_agent_queue_items", "gauge", "Queue items (files and objects) by state.");
    for (int s = 0; s < queue::kStateCount; ++s)
      o << "lightbox_agent_queue_items{state=\"" << queue::to_string(static_cast<queue::State>(s)) << "\"} "
        << q.counts.by_state[s] << '\n';
    head(o, "lightbox_agent_queue_record_batches", "gauge", "Record batches (view sources) by state.");
    for (int s = 0; s < queue::kStateCount; ++s)
      o << "lightbox_agent_queue_record_batches{state=\"" << queue::to_string(static_cast<queue::State>(s)) << "\"} "
        << q.counts.records_by_state[s] << '\n';
    head(o, "lightbox_agent_backlog_bytes", "gauge", "Bytes collected but not yet delivered.");
    o << "lightbox_agent_backlog_bytes " << q.counts.backlog_bytes << '\n';
    head(o, "lightbox_agent_oldest_pending_age_seconds", "gauge",
         "Age of the oldest item not yet delivered (0 when nothing is pending).");
    double age = q.counts.oldest_pending_at ? std::max<double>(0, (q.now_ms - *q.counts.oldest_pending_at) / 1000.0) : 0;
    o << "lightbox_agent_oldest_pending_age_seconds " << num(age) << '\n';
    head(o, "lightbox_agent_source_last_scan_timestamp_seconds", "gauge", "Unix time of each source's last scan (queue.db).");
    for (const auto& s : q.sources)
      o << "lightbox_agent_source_last_scan_timestamp_seconds{source=\"" << escape_label(s.name) << "\"} "
        << num(s.last_scan_at_ms / 1000.0) << '\n';
  }
  std::lock_guard lock(mu_);
  head(o, "lightbox_agent_start_time_seconds", "gauge", "Unix time this agent process started.");
  o << "lightbox_agent_start_time_seconds " << num(start_ms_ / 1000.0) << '\n';
  head(o, "lightbox_agent_delivered_items_total", "counter", "Items delivered by this process, by result.");
  o << "lightbox_agent_delivered_items_total{result=\"uploaded\"} " << uploaded_ << '\n'
    << "lightbox_agent_delivered_items_total{result=\"already_stored\"} " << already_stored_ << '\n'
    << "lightbox_agent_delivered_items_total{result=\"records\"} " << records_ << '\n';
  head(o, "lightbox_agent_delivered_bytes_total", "counter", "Bytes of files delivered by this process.");
  o << "lightbox_agent_delivered_bytes_total " << bytes_ << '\n';
  head(o, "lightbox_agent_upload_errors_total", "counter", "Upload attempts that did not deliver, by error kind.");
  for (const auto& [code, n] : errors_)
    o << "lightbox_agent_upload_errors_total{kind=\"" << escape_label(code) << "\"} " << n << '\n';
  head(o, "lightbox_agent_upload_seconds", "histogram", "Wall time of upload attempts (cancelled ones excluded).");
  std::int64_t cum = 0;
  for (std::size_t i = 0; i < kUploadBuckets.size(); ++i) {
    cum += latency_.counts[i];
    o << "lightbox_agent_upload_seconds_bucket{le=\"" << num(kUploadBuckets[i]) << "\"} " << cum << '\n';
  }
  cum += latency_.counts.back();
  o << "lightbox_agent_upload_seconds_bucket{le=\"+Inf\"} " << cum << '\n'
    << "lightbox_agent_upload_seconds_sum " << num(latency_.sum) << '\n'
    << "lightbox_agent_upload_seconds_count " << latency_.count << '\n';
  head(o, "lightbox_agent_source_up", "gauge", "1 when the source's last scan in this process succeeded.");
  for (const auto& [name, s] : sources_) o << "lightbox_agent_source_up{source=\"" << escape_label(name) << "\"} " << (s.up ? 1 : 0) << '\n';
  head(o, "lightbox_agent_source_last_success_timestamp_seconds", "gauge",
       "Unix time of the source's last successful scan in this process (0 = none yet).");
  for (const auto& [name, s] : sources_)
    o << "lightbox_agent_source_last_success_timestamp_seconds{source=\"" << escape_label(name) << "\"} "
      << num(s.last_success_ms / 1000.0) << '\n';
  head(o, "lightbox_agent_scan_errors_total", "counter", "Failed scans, by source.");
  for (const auto& [name, s] : sources_)
    o << "lightbox_agent_scan_errors_total{source=\"" << escape_label(name) << "\"} " << s.scan_errors << '\n';
  head(o, "lightbox_agent_reloads_total", "counter", "Config reloads (SIGHUP), applied or refused.");
  o << "lightbox_agent_reloads_total{result=\"applied\"} " << reloads_ok_ << '\n'
    << "lightbox_agent_reloads_total{result=\"refused\"} " << reloads_refused_ << '\n';
  head(o, "lightbox_agent_last_reload_timestamp_seconds", "gauge", "Unix time of the last applied reload (0 = none).");
  o << "lightbox_agent_last_reload_timestamp_seconds " << num(last_reload_ms_ / 1000.0) << '\n';
  return o.str();
}

}  // namespace lightbox::agent::metrics
