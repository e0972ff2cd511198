#include "agent/sources/http/http_source.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "common/fsio/atomic_file.hpp"
#include "common/http/ftp_client.hpp"

namespace lightbox::agent::sources::http {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kCat = "agent.sources.http";
constexpr int kMaxDepth = 32;

bool http_url(const std::string& u) { return u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0; }

std::string host_of(const std::string& url) {
  auto s = url.find("://");
  auto e = url.find('/', s == std::string::npos ? 0 : s + 3);
  return url.substr(0, e);
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A temp file outside data_dir, for `check` (which changes nothing in the agent's state).
std::string temp_file() {
  std::string t = (fs::temp_directory_path() / "lightbox-check-XXXXXX").string();
  int fd = ::mkstemp(t.data());
  if (fd >= 0) ::close(fd);
  return t;
}

Error status_error(long status, const std::string& url) {
  if (status == 401)
    return fail(Errc::unauthorized, "credentials rejected by " + host_of(url) + " (HTTP 401 for " + url + ")", "password");
  if (status == 403) return fail(Errc::forbidden, host_of(url) + " refused access to " + url + " (HTTP 403)");
  if (status == 404) return fail(Errc::not_found, url + " does not exist (HTTP 404)", "url");
  return fail(status >= 500 ? Errc::upstream : Errc::network, url + " answered HTTP " + std::to_string(status));
}

}  // namespace

Conditional conditional_for(const std::optional<Validators>& v) {
  if (!v) return {};
  return Conditional{v->etag, v->last_modified};
}

FetchPlan plan_fetch(const ListingEntry& e, const SeenEntry* seen, const Validators* known) {
  FetchPlan plan;
  if (!seen) return plan;  // never collected: an unconditional GET
  if (e.size && e.mtime_s && seen->size == *e.size && seen->mtime_ns == *e.mtime_s * 1'000'000'000) plan.skip = true;
  if (!e.etag.empty() && known && known->etag == e.etag) plan.skip = true;
  if (known) plan.conditional = conditional_for(*known);
  return plan;
}

HttpConfig parse_http_config(config::Node& n, HttpConfig f) {
  n.get("listing_url", f.listing_url);
  n.get("urls", f.urls);
  if (n.has("listing_url") == n.has("urls")) {
    n.problem(n.has("urls") ? "urls" : "listing_url", "set exactly one of \"listing_url\" and \"urls\"");
  }
  if (n.has("listing_url") && !http_url(f.listing_url))
    n.problem("listing_url", "must start with http:// or https:// (got '" + f.listing_url + "')");
  if (n.has("urls") && f.urls.empty()) n.problem("urls", "must list at least one URL");
  for (std::size_t i = 0; i < f.urls.size(); ++i)
    if (!http_url(f.urls[i]))
      n.problem("urls", "[" + std::to_string(i) + "] must start with http:// or https:// (got '" + f.urls[i] + "')");
  n.get("username", f.username);
  std::string password, token;
  n.get("password", password);
  n.get("token", token);
  f.password = log::Secret(password);
  f.token = log::Secret(token);
  if (!token.empty() && !f.username.empty()) n.problem("token", "use either a token (bearer) or username/password (basic), not both");
  if (!password.empty() && f.username.empty()) n.problem("username", "is required with a password");
  n.get("ca_file", f.ca_file);
  n.get("recursive", f.recursive);
  n.get_int("stable_seconds", f.stable_seconds, 1, 86400);
  n.get_int("timeout_seconds", f.timeout_seconds, 1, 86400);
  n.get("include", f.include);
  n.get("exclude", f.exclude);
  std::string after = "keep";
  n.get_enum("after_upload", after, {"keep", "delete"});
  f.delete_after_upload = after == "delete";
  return f;
}

HttpSource::HttpSource(HttpConfig cfg, SeenStore& seen, log::Logger& log, std::string staging_dir,
                       std::string state_db, MonotonicMs now)
    : cfg_(std::move(cfg)),
      seen_store_(seen),
      log_(log),
      staging_dir_(std::move(staging_dir)),
      now_(std::move(now)),
      state_db_path_(std::move(state_db)),
      fetcher_(fetch_options()),
      stability_(cfg_.stable_seconds * 1000),
      admin_(fetch_options()) {}

lightbox::http::FetchOptions HttpSource::fetch_options() const {
  lightbox::http::FetchOptions o;
  o.ca_file = cfg_.ca_file;
  o.username = cfg_.username;
  o.password = cfg_.password;
  o.bearer = cfg_.token;
  o.timeout_seconds = cfg_.timeout_seconds;
  return o;
}

Result<std::string> HttpSource::check() {
  const std::string url = cfg_.listing_url.empty() ? cfg_.urls.front() : cfg_.listing_url;
  std::string tmp = temp_file();
  auto r = fetcher_.get_to_file(url, tmp);
  std::string body = r && r->status == 200 && !cfg_.listing_url.empty() ? read_all(tmp) : std::string();
  ::unlink(tmp.c_str());
  if (!r) return std::move(r).error();
  if (r->status != 200) return status_error(r->status, url);
  if (cfg_.listing_url.empty())
    return std::to_string(cfg_.urls.size()) + " URL(s) configured; " + url + " answered 200";
  auto parsed = parse_listing_json(body, url);
  if (!parsed) return std::move(parsed).error();
  return "listing " + url + " answered 200 with " + std::to_string(parsed->size()) + " entries";
}

Status HttpSource::load_state() {
  if (loaded_) return {};
  auto s = seen_store_.load(cfg_.name);
  if (!s) return std::move(s).error();
  seen_ = std::move(*s);
  auto db = sqlite::Db::open(state_db_path_);
  if (!db) return std::move(db).error();
  state_db_ = std::make_unique<sqlite::Db>(std::move(*db));
  if (auto c = state_db_->exec(
          "CREATE TABLE IF NOT EXISTS http_validators(source TEXT NOT NULL, rel_path TEXT NOT NULL,"
          " etag TEXT NOT NULL DEFAULT '', last_modified TEXT NOT NULL DEFAULT '', PRIMARY KEY(source, rel_path))");
      !c)
    return c;
  auto st = state_db_->prepare("SELECT rel_path, etag, last_modified FROM http_validators WHERE source = ?");
  if (!st) return std::move(st).error();
  st->bind(1, cfg_.name);
  for (;;) {
    auto row = st->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    validators_[st->text(0)] = Validators{st->text(1), st->text(2)};
  }
  loaded_ = true;
  return {};
}

Result<std::vector<ListingEntry>> HttpSource::list(const std::string& url, const std::string& rel_prefix, int depth) {
  std::string tmp = staging_dir_ + "/" + std::string(fsio::kTempPrefix) + "listing";
  auto cached = listings_.find(url);
  Conditional cond = cached == listings_.end() ? Conditional{} : conditional_for(cached->second.validators);
  auto r = fetcher_.get_to_file(url, tmp, cond.if_none_match, cond.if_modified_since);
  if (!r) return std::move(r).error();
  std::vector<ListingEntry> entries;
  if (r->status == 304 && cached != listings_.end()) {
    entries = cached->second.entries;
  } else if (r->status == 200) {
    auto parsed = parse_listing_json(read_all(tmp), url, rel_prefix);
    std::error_code ec;
    fs::remove(tmp, ec);
    if (!parsed) return std::move(parsed).error();
    entries = std::move(*parsed);
    listings_[url] = CachedListing{Validators{r->etag, r->last_modified}, entries};
  } else {
    return status_error(r->status, url);
  }
  std::vector<ListingEntry> out;
  for (auto& e : entries) {
    if (!e.is_dir) {
      out.push_back(std::move(e));
      continue;
    }
    if (!cfg_.recursive || depth >= kMaxDepth) continue;
    auto sub = list(e.url, e.rel_path + "/", depth + 1);
    if (!sub) {
      log_.warn(kCat, "cannot read a sub-listing", {{"source", cfg_.name}, {"url", e.url}, {"error", sub.error().message}});
      continue;
    }
    for (auto& s : *sub) out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<ListingEntry>> HttpSource::entries() {
  if (!cfg_.listing_url.empty()) return list(cfg_.listing_url, {}, 0);
  std::vector<ListingEntry> out;
  for (const auto& u : cfg_.urls) {
    ListingEntry e;
    e.url = u;
    e.rel_path = url_rel_path(u);
    if (e.rel_path.empty()) e.rel_path = host_of(u);
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<Candidate>> HttpSource::scan() {
  std::error_code ec;
  fs::create_directories(staging_dir_, ec);
  for (fs::directory_iterator it(staging_dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code rec;
    fs::remove(it->path(), rec);
  }
  if (auto s = load_state(); !s) return std::move(s).error();
  auto found = entries();
  if (!found) return std::move(found).error();
  {
    std::lock_guard lock(admin_mu_);
    for (const auto& e : *found) url_of_[e.rel_path] = e.url;
  }
  const std::int64_t now = now_();
  std::vector<Candidate> out;
  std::optional<Error> first_error;
  fresh_validators_.clear();
  for (const auto& e : *found) {
    if (!matches_any(cfg_.include, e.rel_path) || matches_any(cfg_.exclude, e.rel_path)) continue;
    auto seen = seen_.find(e.rel_path);
    auto known = validators_.find(e.rel_path);
    const bool collected_before = seen != seen_.end();
    FetchPlan plan = plan_fetch(e, collected_before ? &seen->second : nullptr,
                                known != validators_.end() ? &known->second : nullptr);
    if (plan.skip) continue;
    // A listed file with a size or time is collected once they stop changing (it may be being written).
    if ((e.size || e.mtime_s) && !stability_.observe(e.rel_path, e.size.value_or(0), e.mtime_s.value_or(0), now)) continue;
    const Conditional& cond = plan.conditional;
    std::string staged = staging_dir_ + "/" + std::to_string(++staged_seq_);
    std::string part = staging_dir_ + "/" + std::string(fsio::kTempPrefix) + std::to_string(staged_seq_);
    auto r = fetcher_.get_to_file(e.url, part, cond.if_none_match, cond.if_modified_since);
    if (!r || r->status != 200) fs::remove(part, ec);
    if (!r) {
      log_.warn(kCat, "download failed", {{"source", cfg_.name}, {"url", e.url}, {"error", r.error().message}});
      if (!first_error) first_error = r.error();
      if (r.error().code == Errc::network || r.error().code == Errc::storage_full) break;
      continue;
    }
    if (r->status == 304) {
      // Unchanged: remember the listing's size/time so the next scan needs no request.
      stability_.forget(e.rel_path);
      if (collected_before && (e.size || e.mtime_s)) {
        Candidate c{cfg_.name, e.rel_path, {}, e.size.value_or(seen->second.size),
                    e.mtime_s ? *e.mtime_s * 1'000'000'000 : seen->second.mtime_ns, {}};
        std::vector<Collected> again{{c, seen->second.sha256}};
        if (seen_store_.put(again).ok()) seen_[e.rel_path] = SeenEntry{c.size, c.mtime_ns, seen->second.sha256};
      }
      continue;
    }
    if (r->status != 200) {
      auto err = status_error(r->status, e.url);
      log_.warn(kCat, "download refused", {{"source", cfg_.name}, {"url", e.url}, {"status", r->status}});
      if (!first_error) first_error = err;
      if (r->status == 401) return err;  // every other request would be refused the same way
      continue;
    }
    if (e.size && r->bytes != *e.size) {
      // Changed between the listing and the download: wait for it to settle.
      fs::remove(part, ec);
      stability_.restart(e.rel_path, now_());
      continue;
    }
    fs::rename(part, staged, ec);
    if (ec) continue;
    std::int64_t mtime_s = e.mtime_s.value_or(lightbox::http::parse_http_date(r->last_modified).value_or(0));
    fresh_validators_[e.rel_path] = Validators{r->etag.empty() ? e.etag : r->etag, r->last_modified};
    out.push_back(Candidate{cfg_.name, e.rel_path, staged, r->bytes, mtime_s * 1'000'000'000, {}});
  }
  stability_.end_scan();
  if (out.empty() && first_error) return std::move(*first_error);
  return out;
}

Status HttpSource::save_validators(const std::vector<Collected>& batch) {
  if (!state_db_) return {};
  sqlite::Txn txn(*state_db_);
  if (!txn.begun()) return txn.begun();
  auto st = state_db_->prepare(
      "INSERT INTO http_validators(source, rel_path, etag, last_modified) VALUES(?,?,?,?) "
      "ON CONFLICT(source, rel_path) DO UPDATE SET etag=excluded.etag, last_modified=excluded.last_modified");
  if (!st) return std::move(st).error();
  for (const auto& c : batch) {
    auto it = fresh_validators_.find(c.candidate.rel_path);
    if (it == fresh_validators_.end()) continue;
    st->bind(1, cfg_.name).bind(2, c.candidate.rel_path).bind(3, it->second.etag).bind(4, it->second.last_modified);
    if (auto s = st->run(); !s) return s;
  }
  return txn.commit();
}

Status HttpSource::mark_collected(const std::vector<Collected>& batch) {
  if (auto s = seen_store_.put(batch); !s) return s;
  if (auto s = save_validators(batch); !s) return s;
  for (const auto& c : batch) {
    const auto& rel = c.candidate.rel_path;
    seen_[rel] = SeenEntry{c.candidate.size, c.candidate.mtime_ns, c.sha256};
    if (auto it = fresh_validators_.find(rel); it != fresh_validators_.end()) validators_[rel] = it->second;
    stability_.forget(rel);
    std::error_code ec;
    fs::remove(c.candidate.abs_path, ec);
  }
  return {};
}

std::string HttpSource::url_for(const std::string& rel_path) {
  if (auto it = url_of_.find(rel_path); it != url_of_.end()) return it->second;
  if (!cfg_.listing_url.empty()) return resolve_url(cfg_.listing_url, lightbox::http::url_escape_path(rel_path));
  return {};
}

Status HttpSource::after_upload(const std::string& rel_path, std::uint64_t) {
  if (!cfg_.delete_after_upload) return {};
  std::lock_guard lock(admin_mu_);
  std::string url = url_for(rel_path);
  if (url.empty()) return fail(Errc::not_found, "no URL known for " + rel_path);
  auto r = admin_.remove(url);
  if (!r) return std::move(r).error();
  if (*r / 100 == 2 || *r == 404 || *r == 410) return {};
  if (*r == 405 || *r == 501)
    return fail(Errc::forbidden, host_of(url) + " does not allow DELETE (HTTP " + std::to_string(*r) +
                                     "); use after_upload \"keep\"");
  return status_error(*r, url);
}

}  // namespace lightbox::agent::sources::http
