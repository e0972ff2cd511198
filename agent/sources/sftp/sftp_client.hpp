#pragma once
// The only place libssh2 is used: one SSH connection with its SFTP channel, host key pinned,
// blocking calls bounded by a timeout. The rest of the agent sees plain structs and Results.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/error/result.hpp"
#include "common/log/logger.hpp"

namespace lightbox::agent::sources::sftp {

/// Keeps libssh2 initialised while alive (libssh2_init is reference-counted). Create on the
/// thread that builds sources, before any connection exists.
class SshLibrary {
 public:
  SshLibrary();
  ~SshLibrary();
  SshLibrary(const SshLibrary&) = delete;
  SshLibrary& operator=(const SshLibrary&) = delete;
};

/// Where and as whom to connect, and which host key to trust.
struct SftpTarget {
  std::string host;
  int port = 22;
  std::string username;
  log::Secret password;          // password login (or keyboard-interactive answered with it)
  std::string private_key_file;  // key login when set (ed25519, ECDSA)
  log::Secret passphrase;        // for an encrypted private key
  std::string known_hosts;       // OpenSSH known_hosts file pinning the server's key
  std::int64_t timeout_seconds = 30;

  /// "user@host:port", for messages.
  std::string describe() const;
};

/// A regular file found by a listing.
struct RemoteFile {
  std::string rel_path;  // relative to the listed root, '/'-separated
  std::uint64_t size = 0;
  std::int64_t mtime_s = 0;  // SFTP v3 carries whole seconds
};

/// stat() of one remote path.
struct RemoteAttrs {
  bool exists = false;
  bool is_dir = false;
  std::uint64_t size = 0;
  std::int64_t mtime_s = 0;
};

/// One connected, authenticated SFTP session. Not thread-safe: use from one thread at a time.
class SftpClient {
 public:
  /// Connects, checks the host key against known_hosts, logs in and opens SFTP. Errors are
  /// sentences for an operator ("password rejected ...", "host key for ... changed ...").
  static Result<std::unique_ptr<SftpClient>> connect(const SftpTarget& target);
  ~SftpClient();
  SftpClient(const SftpClient&) = delete;
  SftpClient& operator=(const SftpClient&) = delete;

  /// Regular files under `root` (its subfolders too when `recursive`); `skip_dir(rel)` prunes.
  Result<std::vector<RemoteFile>> list(const std::string& root, bool recursive,
                                       const std::function<bool(const std::string&)>& skip_dir);
  /// Attributes of a path (follows symlinks); exists=false when there is no such file.
  Result<RemoteAttrs> stat(const std::string& path);
  /// Streams `remote` into `local_path` (a temporary next to it, then rename); fails when
  /// the byte count differs from `expected_size`.
  Status download(const std::string& remote, const std::string& local_path, std::uint64_t expected_size);
  /// Deletes a remote file.
  Status remove(const std::string& path);
  /// Renames a remote file; an existing target is replaced.
  Status rename(const std::string& from, const std::string& to);
  /// Creates a remote folder and its missing parents.
  Status make_dirs(const std::string& path);
  /// True once the session itself failed; the owner should drop it and connect again.
  bool broken() const { return broken_; }

 private:
  struct Handles;
  explicit SftpClient(std::unique_ptr<Handles> h, std::string where);
  Error session_error(const std::string& what);
  Error sftp_error(const std::string& what, const std::string& path);

  std::unique_ptr<Handles> h_;
  std::string where_;
  bool broken_ = false;
};

}  // namespace lightbox::agent::sources::sftp
