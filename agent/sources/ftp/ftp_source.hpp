#pragma once
// The `ftp` source: a directory tree on an FTP server (plain FTP, or FTPS with explicit or
// implicit TLS), listed on a schedule; stable files are downloaded into the source's staging
// folder, and kept, deleted or moved on the server only after the hub's receipt.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "agent/sources/folder_source.hpp"
#include "agent/sources/ftp/stability.hpp"
#include "agent/sources/seen_store.hpp"
#include "agent/sources/source.hpp"
#include "common/config/reader.hpp"
#include "common/http/ftp_client.hpp"
#include "common/log/logger.hpp"

namespace lightbox::agent::sources::ftp {

/// Typed config of one `ftp` source (sources[i] in the agent config).
struct FtpConfig {
  std::string name;
  std::string url;   // as written: "ftp://host:2121/outbox"
  std::string host;  // parsed from url
  int port = 21;
  std::string root;  // path from url: "outbox" (relative to the login directory) or "/data/outbox"
  http::FtpTls tls = http::FtpTls::none;
  std::string ca_file;
  std::string username;
  log::Secret password;
  bool passive = true;
  bool recursive = true;
  std::int64_t stable_seconds = 2;
  std::int64_t poll_seconds = 5;
  std::int64_t timeout_seconds = 600;
  std::vector<std::string> include{"*"};
  std::vector<std::string> exclude;
  AfterUpload after_upload = AfterUpload::keep;
  std::string move_to;  // server path, relative to the login directory unless it starts with '/'
};

/// Reads the ftp-specific keys of sources[i] (name and poll_seconds are already in `base`);
/// problems carry the full key path.
FtpConfig parse_ftp_config(config::Node& n, FtpConfig base);

/// Splits "ftp://host[:port][/path]" into `cfg`; returns a problem sentence, or "" when fine.
std::string parse_ftp_url(const std::string& url, FtpConfig& cfg);

/// "/home/edge" + "outbox" -> "/home/edge/outbox"; an absolute `path` stays as it is.
std::string resolve_server_path(const std::string& home, const std::string& path);

/// Lists, downloads and acknowledges files of one FTP directory tree.
class FtpSource final : public Source {
 public:
  /// `wall_now_s` gives the wall clock in seconds (to date LIST lines that omit the year).
  FtpSource(FtpConfig cfg, SeenStore& seen, log::Logger& log, std::string staging_dir,
            MonotonicMs now = steady_now_ms, std::function<std::int64_t()> wall_now_s = {});

  const std::string& name() const override { return cfg_.name; }
  std::string_view kind() const override { return "ftp"; }
  std::int64_t poll_seconds() const override { return cfg_.poll_seconds; }
  std::int64_t stable_seconds() const override { return cfg_.stable_seconds; }
  Result<std::string> check() override;
  Result<std::vector<Candidate>> scan() override;
  std::size_t pending() const override { return stability_.size(); }
  Status mark_collected(const std::vector<Collected>& batch) override;
  Status after_upload(const std::string& rel_path, std::uint64_t size) override;

 private:
  struct Found {
    std::string rel;
    std::uint64_t size;
    std::int64_t list_mtime_s;
    std::int64_t mtime_s;  // exact (MLSD or MDTM) when known, else the LIST time
  };
  struct Hint {  // LIST mode: the exact mtime fetched for a (size, LIST time)
    std::uint64_t size;
    std::int64_t list_mtime_s;
    std::int64_t mtime_s;
  };

  http::FtpOptions client_options() const;
  Result<std::vector<Found>> walk(const std::string& root_abs, const std::string& skip_abs);
  void fill_exact_times(const std::string& root_abs, std::vector<Found>& files);
  void clear_staging();

  FtpConfig cfg_;
  SeenStore& seen_store_;
  log::Logger& log_;
  std::string staging_dir_;
  MonotonicMs now_;
  std::function<std::int64_t()> wall_now_s_;
  http::FtpClient client_;  // scan thread
  bool loaded_ = false;
  int mlsd_ = -1;           // -1 = not asked yet (FEAT)
  std::map<std::string, SeenEntry> seen_;
  std::map<std::string, Hint> hints_;
  StabilityTracker stability_;
  std::uint64_t staged_seq_ = 0;

  std::mutex admin_mu_;       // after_upload runs on uploader threads: one session, one at a time
  http::FtpClient admin_;
  std::string admin_home_;
};

}  // namespace lightbox::agent::sources::ftp
