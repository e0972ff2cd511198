#pragma once
// The `sftp` source: a folder on an SSH server, listed on a schedule. Stable files are
// downloaded into the source's staging folder and handed to the intake; keep/delete/move is
// applied on the server only after the hub's receipt.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/sources/folder_source.hpp"
#include "agent/sources/seen_store.hpp"
#include "agent/sources/sftp/sftp_client.hpp"
#include "agent/sources/sftp/stable_files.hpp"
#include "agent/sources/source.hpp"
#include "common/config/reader.hpp"
#include "common/log/logger.hpp"

namespace lightbox::agent::sources::sftp {

/// Typed config of one sftp source (sources[i] in the agent config).
struct SftpConfig {
  std::string name;
  std::int64_t poll_seconds = 5;
  SftpTarget target;
  std::string path = ".";  // on the server; relative paths start at the login folder
  bool recursive = true;
  std::int64_t stable_seconds = 2;
  std::vector<std::string> include{"*"};
  std::vector<std::string> exclude;
  AfterUpload after_upload = AfterUpload::keep;
  std::string move_to;  // on the server
};

/// Reads the sftp-specific keys of sources[i] (name, kind and poll_seconds are in `base`);
/// problems carry the full key path.
SftpConfig parse_sftp_config(config::Node& n, SftpConfig base);

/// A remote folder reached over SFTP. One session serves a whole scan and is kept for the next
/// one when polls are a minute apart or less (reopened when it fails); after_upload uses a
/// second session so uploads never wait for a long scan.
class SftpSource final : public Source {
 public:
  SftpSource(SftpConfig cfg, SeenStore& seen, std::string staging_dir, log::Logger& log,
             MonotonicMs now = steady_now_ms);
  ~SftpSource() override;

  const std::string& name() const override { return cfg_.name; }
  std::string_view kind() const override { return "sftp"; }
  std::int64_t poll_seconds() const override { return cfg_.poll_seconds; }
  std::int64_t stable_seconds() const override { return cfg_.stable_seconds; }
  Result<std::string> check() override;
  Result<std::vector<Candidate>> scan() override;
  std::size_t pending() const override { return stable_.size(); }
  Status mark_collected(const std::vector<Collected>& batch) override;
  Status after_upload(const std::string& rel_path, std::uint64_t size) override;

  /// The server path of a file found at `rel_path` under the source's path.
  std::string remote_path(const std::string& rel_path) const;
  /// True for a subfolder (relative to path) that must not be listed: the move_to target.
  bool skip_dir(const std::string& rel_dir) const;

 private:
  Result<std::vector<RemoteFile>> list_with_retry();
  Status apply_after_upload(SftpClient& c, const std::string& rel_path, std::uint64_t size);

  SshLibrary lib_;
  SftpConfig cfg_;
  SeenStore& seen_store_;
  std::string staging_;
  log::Logger& log_;
  MonotonicMs now_;
  std::string move_rel_;  // move_to relative to path, when it lies inside it
  bool loaded_ = false;
  std::map<std::string, SeenEntry> seen_;
  StableFiles stable_;
  std::unique_ptr<SftpClient> scan_client_;
  std::mutex action_mu_;  // after_upload may run on several uploader threads
  std::unique_ptr<SftpClient> action_client_;
};

}  // namespace lightbox::agent::sources::sftp
