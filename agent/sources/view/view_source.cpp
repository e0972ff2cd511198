#include "agent/sources/view/view_source.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "common/fsio/atomic_file.hpp"
#include "common/wire/records.hpp"

namespace lightbox::agent::sources::view {
namespace {

constexpr std::string_view kCat = "agent.source.view";
// Half the hub's limit: the batch file adds framing, and the margin keeps 413 out of reach.
constexpr std::uint64_t kBatchBytes = wire::kMaxRecordsBatchBytes / 2;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ConnectOptions connect_options(const ViewConfig& c) {
  ConnectOptions o;
  o.connection_string = c.connection_string;
  o.username = c.username.reveal();
  o.password = c.password.reveal();
  o.timeout_seconds = c.timeout_seconds;
  o.text = c.text;
  return o;
}

std::string bare_lower(std::string s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '[' || s.front() == '`')) s = s.substr(1, s.size() - 2);
  auto dot = s.rfind('.');
  if (dot != std::string::npos) s = s.substr(dot + 1);
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::optional<std::size_t> column_at(const std::vector<ColumnInfo>& cols, const std::string& name) {
  for (std::size_t i = 0; i < cols.size(); ++i)
    if (bare_lower(cols[i].name) == bare_lower(name)) return i;
  return std::nullopt;
}

// What a failed connect means, in plain words for `check` and last_error.
std::string where(const ViewConfig& c) {
  std::string cs = c.connection_string;
  // Keep secrets out of messages even when someone put PWD= into the connection string.
  for (const char* k : {"PWD=", "pwd=", "Pwd=", "PASSWORD=", "password=", "Password="}) {
    auto p = cs.find(k);
    if (p != std::string::npos) {
      auto end = cs.find(';', p);
      cs = cs.substr(0, p) + k + "***" + (end == std::string::npos ? "" : cs.substr(end));
    }
  }
  return cs;
}

Result<Connection> connect(const ViewConfig& c) {
  auto conn = Connection::open(connect_options(c));
  if (conn) return conn;
  std::string detail = conn.error().message;
  constexpr std::string_view kPrefix = "cannot connect: ";
  if (detail.rfind(kPrefix, 0) == 0) detail = detail.substr(kPrefix.size());
  return fail(conn.error().code, "cannot connect to " + where(c) + ": " + detail);
}

}  // namespace

ViewSource::ViewSource(ViewConfig cfg, SeenStore& seen, std::string staging_dir, log::Logger& log)
    : cfg_(std::move(cfg)), seen_(seen), staging_dir_(std::move(staging_dir)), log_(log) {}

Status ViewSource::load_watermark() {
  if (loaded_) return {};
  auto text = seen_.load_watermark(cfg_.name);
  if (!text) return std::move(text).error();
  auto wm = Watermark::parse(*text);
  if (!wm) return std::move(wm).error();
  saved_ = *wm;
  loaded_ = true;
  return {};
}

Result<std::string> ViewSource::check() {
  auto conn = connect(cfg_);
  if (!conn) return std::move(conn).error();
  auto cols = conn->describe(probe_sql(cfg_));
  if (!cols) return fail(cols.error().code, "connected, but the query is refused: " + cols.error().message);
  std::vector<std::string> names;
  for (const auto& c : *cols) names.push_back(c.name);
  auto ix = index_columns(cfg_.map, names);
  std::vector<std::string> missing;
  if (!ix) missing.push_back(ix.error().message);
  for (const auto& [what, col] : {std::pair{"watermark.timestamp_column", cfg_.timestamp_column},
                                  std::pair{"watermark.key_column", cfg_.key_column}})
    if (!column_at(*cols, col)) missing.push_back(std::string(what) + " " + col + " is not a column");
  for (const auto& col : cfg_.columns)
    if (!column_at(*cols, col)) missing.push_back("columns: " + col + " is not a column");
  if (!missing.empty()) {
    std::string msg = "connected, but " + (cfg_.select.empty() ? cfg_.view : std::string("the select")) + " lacks: ";
    for (std::size_t i = 0; i < missing.size(); ++i) msg += (i ? "; " : "") + missing[i];
    return fail(Errc::not_found, msg);
  }
  std::string what = cfg_.select.empty() ? "view " + cfg_.view : std::string("the select");
  return "connected to " + where(cfg_) + "; " + what + " has all " + std::to_string(cfg_.map.fields.size() + 2) +
         " mapped columns" + (conn->read_only_mode() ? " (read-only session)" : " (driver ignores read-only mode; only SELECT is run)");
}

void ViewSource::clear_staging() {
  // Batches of an earlier scan that never reached the queue: their rows are read again.
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(staging_dir_, ec)) std::filesystem::remove(e.path(), ec);
}

Result<Candidate> ViewSource::write_batch(const std::vector<nlohmann::json>& records, const Watermark& upto) {
  const std::string file = cfg_.map.record_kind + "-" + std::to_string(wall_ms()) + "-" + std::to_string(++seq_) + ".json";
  const std::string abs = staging_dir_ + "/" + file;
  const std::string body = batch_json(records);
  if (auto s = fsio::write_file_atomic(abs, body); !s) return std::move(s).error();
  Candidate c;
  c.source = cfg_.name;
  c.rel_path = "records/" + file;
  c.abs_path = abs;
  c.size = body.size();
  c.mtime_ns = 0;
  c.kind_hint = "records";
  batches_.push_back(Batch{c.rel_path, abs, upto, false});
  return c;
}

Result<std::vector<Candidate>> ViewSource::scan() {
  counts_ = {};
  capped_ = false;
  batches_.clear();
  tail_.reset();
  if (auto s = load_watermark(); !s) return std::move(s).error();
  std::error_code ec;
  std::filesystem::create_directories(staging_dir_, ec);
  if (ec) return fail(Errc::io_error, "cannot create " + staging_dir_ + ": " + ec.message());
  clear_staging();

  auto conn = connect(cfg_);
  if (!conn) return std::move(conn).error();
  std::optional<Timestamp> lower;
  if (saved_) lower = saved_->lower_bound(cfg_.lookback_seconds);
  auto cur = conn->query(poll_sql(cfg_, lower.has_value()), lower, {cfg_.timestamp_column});
  if (!cur) return std::move(cur).error();
  std::vector<std::string> names;
  for (const auto& c : cur->columns()) names.push_back(c.name);
  auto ix = index_columns(cfg_.map, names);
  if (!ix) return std::move(ix).error();
  auto ts_at = column_at(cur->columns(), cfg_.timestamp_column);
  auto key_at = column_at(cur->columns(), cfg_.key_column);
  if (!ts_at || !key_at) return fail(Errc::not_found, "the query lacks the watermark columns");

  std::vector<Candidate> out;
  std::vector<nlohmann::json> pending;
  std::uint64_t pending_bytes = 0;
  std::unordered_map<std::string, std::string> this_scan;  // rel key -> hash in the current batch
  std::vector<Value> row;
  Watermark at;
  std::string first_skip;
  for (;;) {
    auto more = cur->next(row);
    if (!more) return std::move(more).error();
    if (!*more) break;
    ++counts_.rows;
    const Value& tsv = row[*ts_at];
    if (tsv.type != Value::Type::timestamp) continue;  // NULL: excluded by the WHERE anyway
    // Rows come in (ts, key) order of the database, so the last row read is the furthest.
    at = Watermark{tsv.ts, row[*key_at].to_string()};
    tail_ = at;
    auto rec = map_row(cfg_.map, *ix, row);
    if (!rec) {
      if (first_skip.empty()) first_skip = rec.error().message;
      ++counts_.skipped;
      continue;
    }
    const std::string rel = cfg_.map.record_kind + "/" + rec->key;
    if (auto it = this_scan.find(rel); it != this_scan.end() && it->second == rec->hash) {
      ++counts_.unchanged;
      continue;
    }
    auto seen = seen_.find(cfg_.name, rel);
    if (!seen) return std::move(seen).error();
    if (*seen && (*seen)->sha256 == rec->hash) {
      ++counts_.unchanged;
      continue;
    }
    this_scan[rel] = rec->hash;
    pending_bytes += rec->record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size() + 1;
    pending.push_back(std::move(rec->record));
    ++counts_.records;
    // Cut by rows, and by bytes well below the hub's batch limit (wide rows, long reports).
    if (static_cast<std::int64_t>(pending.size()) >= cfg_.batch_rows || pending_bytes >= kBatchBytes) {
      pending_bytes = 0;
      auto c = write_batch(pending, at);
      if (!c) return std::move(c).error();
      out.push_back(std::move(*c));
      pending.clear();
      this_scan.clear();  // bounded memory; a key repeated in a later batch is idempotent at the hub
      // Only new records count, so every poll makes progress even when the look-back window
      // holds more rows than the slice; the next poll resumes from the watermark.
      if (counts_.records >= cfg_.max_records_per_poll) {
        capped_ = true;
        break;
      }
    }
  }
  if (!pending.empty()) {
    auto c = write_batch(pending, at);
    if (!c) return std::move(c).error();
    out.push_back(std::move(*c));
  }
  if (counts_.skipped > 0)
    log_.warn(kCat, "rows skipped", {{"source", cfg_.name}, {"count", counts_.skipped}, {"first", first_skip}});
  log_.debug(kCat, "scanned", {{"source", cfg_.name}, {"rows", counts_.rows}, {"records", counts_.records},
                               {"unchanged", counts_.unchanged}});
  // Nothing new to queue: the watermark may move over the re-read rows at once.
  if (batches_.empty()) {
    if (auto s = advance(); !s) return std::move(s).error();
  }
  return out;
}

Status ViewSource::mark_collected(const std::vector<Collected>& batch) {
  std::vector<Collected> entries;
  for (const auto& c : batch) {
    auto it = std::find_if(batches_.begin(), batches_.end(), [&](const Batch& b) { return b.rel_path == c.candidate.rel_path; });
    if (it == batches_.end()) continue;
    // The batch file is re-read rather than held in memory: a first poll may be millions of rows.
    auto body = fsio::read_file(it->abs_path);
    if (!body) return std::move(body).error();
    auto j = nlohmann::json::parse(*body, nullptr, false);
    if (!j.is_object() || !j.contains("records") || !j["records"].is_array())
      return fail(Errc::internal, "staged batch " + it->abs_path + " is not a records batch");
    for (const auto& r : j["records"]) {
      Collected e;
      e.candidate.source = cfg_.name;
      e.candidate.rel_path = r.value("kind", std::string()) + "/" + r.value("key", std::string());
      e.sha256 = record_hash(r);
      entries.push_back(std::move(e));
    }
    it->collected = true;
  }
  if (auto s = seen_.put(entries); !s) return s;
  for (auto& b : batches_) {
    if (!b.collected) continue;
    std::error_code ec;
    std::filesystem::remove(b.abs_path, ec);
  }
  return advance();
}

Status ViewSource::advance() {
  std::optional<Watermark> next;
  bool all = true;
  for (const auto& b : batches_) {
    if (!b.collected) {
      all = false;
      break;
    }
    next = b.upto;
  }
  if (all && tail_) next = tail_;  // rows after the last batch were all unchanged
  // Keys compare in the database's collation, not ours: only the timestamp decides the order.
  if (!next || (saved_ && (next->ts < saved_->ts || *next == *saved_))) return {};
  if (auto s = seen_.save_watermark(cfg_.name, "view", next->to_json_text()); !s) return s;
  saved_ = next;
  return {};
}

}  // namespace lightbox::agent::sources::view
