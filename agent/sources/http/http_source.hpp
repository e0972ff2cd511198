#pragma once
// The `http` source: resources on an HTTP(S) server, named by a JSON listing (polled) or by a
// fixed list of URLs. Each GET is conditional (If-None-Match / If-Modified-Since with what the
// server said last time), so unchanged resources are not downloaded again; those validators
// are kept in queue.db (table http_validators) and survive restarts.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/sources/folder_source.hpp"
#include "agent/sources/ftp/stability.hpp"
#include "agent/sources/http/http_listing.hpp"
#include "agent/sources/seen_store.hpp"
#include "agent/sources/source.hpp"
#include "common/config/reader.hpp"
#include "common/http/fetcher.hpp"
#include "common/log/logger.hpp"
#include "common/sqlite/db.hpp"

namespace lightbox::agent::sources::http {

/// Typed config of one `http` source (sources[i] in the agent config).
struct HttpConfig {
  std::string name;
  std::string listing_url;        // either this ...
  std::vector<std::string> urls;  // ... or this
  std::string username;           // basic auth
  log::Secret password;
  log::Secret token;              // bearer auth
  std::string ca_file;
  bool recursive = true;          // follow directories of an nginx listing
  std::int64_t stable_seconds = 2;
  std::int64_t poll_seconds = 5;
  std::int64_t timeout_seconds = 600;
  std::vector<std::string> include{"*"};
  std::vector<std::string> exclude;
  bool delete_after_upload = false;  // after_upload: "keep" | "delete" (HTTP DELETE, e.g. WebDAV)
};

/// Reads the http-specific keys of sources[i]; problems carry the full key path.
HttpConfig parse_http_config(config::Node& n, HttpConfig base);

/// What a server said about a resource the last time it was collected.
struct Validators {
  std::string etag;
  std::string last_modified;
};

/// The headers of a conditional GET for what was collected before (empty = unconditional).
struct Conditional {
  std::string if_none_match;
  std::string if_modified_since;
};
/// If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2); both are sent, servers pick.
Conditional conditional_for(const std::optional<Validators>& v);

/// What a scan does with one listed resource, given what was collected before (null = never).
struct FetchPlan {
  bool skip = false;        // the listing alone shows it is unchanged: no request at all
  Conditional conditional;  // headers for the GET otherwise
};
FetchPlan plan_fetch(const ListingEntry& e, const SeenEntry* seen, const Validators* known);

/// Polls one HTTP server for new or changed resources.
class HttpSource final : public Source {
 public:
  /// `state_db` is the agent's queue.db, which also holds this source's ETag/Last-Modified
  /// validators.
  HttpSource(HttpConfig cfg, SeenStore& seen, log::Logger& log, std::string staging_dir, std::string state_db,
             MonotonicMs now = steady_now_ms);

  const std::string& name() const override { return cfg_.name; }
  std::string_view kind() const override { return "http"; }
  std::int64_t poll_seconds() const override { return cfg_.poll_seconds; }
  std::int64_t stable_seconds() const override { return cfg_.stable_seconds; }
  Result<std::string> check() override;
  Result<std::vector<Candidate>> scan() override;
  std::size_t pending() const override { return stability_.size(); }
  Status mark_collected(const std::vector<Collected>& batch) override;
  Status after_upload(const std::string& rel_path, std::uint64_t size) override;

 private:
  struct CachedListing {
    Validators validators;
    std::vector<ListingEntry> entries;
  };

  lightbox::http::FetchOptions fetch_options() const;
  Status load_state();
  Result<std::vector<ListingEntry>> list(const std::string& url, const std::string& rel_prefix, int depth);
  Result<std::vector<ListingEntry>> entries();
  Status save_validators(const std::vector<Collected>& batch);
  std::string url_for(const std::string& rel_path);

  HttpConfig cfg_;
  SeenStore& seen_store_;
  log::Logger& log_;
  std::string staging_dir_;
  MonotonicMs now_;
  std::string state_db_path_;
  lightbox::http::Fetcher fetcher_;  // scan thread
  std::unique_ptr<sqlite::Db> state_db_;
  bool loaded_ = false;
  std::map<std::string, SeenEntry> seen_;
  std::map<std::string, Validators> validators_;          // persisted
  std::map<std::string, Validators> fresh_validators_;    // from this scan's 200s, saved on mark_collected
  std::map<std::string, CachedListing> listings_;         // per listing URL, in memory
  ftp::StabilityTracker stability_;
  std::uint64_t staged_seq_ = 0;

  std::mutex admin_mu_;  // after_upload runs on uploader threads
  lightbox::http::Fetcher admin_;
  std::map<std::string, std::string> url_of_;  // rel_path -> URL, guarded by admin_mu_
};

}  // namespace lightbox::agent::sources::http
