#include "agent/sources/sftp/sftp_client.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>

#include <libssh2.h>
#include <libssh2_sftp.h>

#include "agent/sources/sftp/known_hosts.hpp"
#include "common/fsio/atomic_file.hpp"

namespace lightbox::agent::sources::sftp {

SshLibrary::SshLibrary() { libssh2_init(0); }
SshLibrary::~SshLibrary() { libssh2_exit(); }

std::string SftpTarget::describe() const { return username + "@" + host + ":" + std::to_string(port); }

struct SftpClient::Handles {
  LIBSSH2_SESSION* session = nullptr;
  LIBSSH2_SFTP* sftp = nullptr;
  int sock = -1;
  const std::string* password = nullptr;  // answers keyboard-interactive prompts

  ~Handles() {
    if (sftp) libssh2_sftp_shutdown(sftp);
    if (session) libssh2_session_free(session);
    if (sock >= 0) ::close(sock);
  }
};

namespace {

std::string last_error(LIBSSH2_SESSION* s) {
  char* msg = nullptr;
  int len = 0;
  libssh2_session_last_error(s, &msg, &len, 0);
  return msg && len > 0 ? std::string(msg, static_cast<std::size_t>(len)) : std::string("unknown error");
}

// TCP connect bounded by `timeout_ms`; returns a blocking socket or an operator's sentence.
Result<int> tcp_connect(const SftpTarget& t, int timeout_ms) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(t.port);
  if (int rc = ::getaddrinfo(t.host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return fail(Errc::network, "cannot connect to " + t.host + ":" + port + ": " + ::gai_strerror(rc),
                "host");
  std::string why = "no address";
  for (addrinfo* a = res; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int flags = ::fcntl(fd, F_GETFL, 0);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, timeout_ms);
      if (rc == 0) {
        why = "no answer within " + std::to_string(timeout_ms / 1000) + " s";
        ::close(fd);
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc != 0) {
      why = std::strerror(errno);
      ::close(fd);
      continue;
    }
    ::fcntl(fd, F_SETFL, flags);
    int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    ::freeaddrinfo(res);
    return fd;
  }
  ::freeaddrinfo(res);
  return fail(Errc::network, "cannot connect to " + t.host + ":" + port + " (" + why + ")", "host");
}

void kbdint_answer(const char*, int, const char*, int, int num_prompts, const LIBSSH2_USERAUTH_KBDINT_PROMPT*,
                   LIBSSH2_USERAUTH_KBDINT_RESPONSE* responses, void** abstract) {
  const std::string* pw = *abstract ? static_cast<const std::string*>(*abstract) : nullptr;
  for (int i = 0; i < num_prompts; ++i) {
    std::string v = pw ? *pw : std::string();
    responses[i].text = static_cast<char*>(std::malloc(v.size() + 1));  // freed by libssh2
    if (!responses[i].text) return;
    std::memcpy(responses[i].text, v.c_str(), v.size() + 1);
    responses[i].length = static_cast<unsigned int>(v.size());
  }
}

bool offers(const char* list, std::string_view method) {
  if (!list) return false;
  std::string_view l(list);
  std::size_t start = 0;
  while (start <= l.size()) {
    auto comma = l.find(',', start);
    if (l.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start) == method)
      return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

std::string join_fingerprints(const std::vector<KnownHostKey>& keys, std::string_view type) {
  std::string out;
  for (const auto& k : keys) {
    if (k.revoked || (!type.empty() && k.key_type != type)) continue;
    if (!out.empty()) out += " or ";
    out += fingerprint_sha256(k.blob);
  }
  return out;
}

std::string hostkey_type_name(int type) {
  switch (type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA:
      return "ssh-rsa";
    case LIBSSH2_HOSTKEY_TYPE_DSS:
      return "ssh-dss";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
      return "ecdsa-sha2-nistp256";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
      return "ecdsa-sha2-nistp384";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
      return "ecdsa-sha2-nistp521";
    case LIBSSH2_HOSTKEY_TYPE_ED25519:
      return "ssh-ed25519";
    default:
      return "";
  }
}

// Verifies the host key the handshake produced against the pinned keys.
Status verify_server(LIBSSH2_SESSION* s, const SftpTarget& t, const std::vector<KnownHostKey>& pinned) {
  std::size_t len = 0;
  int type = 0;
  const char* key = libssh2_session_hostkey(s, &len, &type);
  if (!key || len == 0)
    return fail(Errc::network,
                "the server at " + t.host + ":" + std::to_string(t.port) + " sent no host key");
  std::string_view blob(key, len);
  std::string offered = fingerprint_sha256(blob);
  std::string where = t.host + ":" + std::to_string(t.port);
  std::string name = known_hosts_name(t.host, t.port);
  switch (verify_host_key(pinned, blob)) {
    case HostKeyVerdict::match:
      return {};
    case HostKeyVerdict::revoked:
      return fail(Errc::forbidden,
                  "host key " + offered + " of " + where + " is marked @revoked in " + t.known_hosts,
                  "known_hosts");
    case HostKeyVerdict::unknown:
      return fail(Errc::forbidden,
                  "host key for " + where + " is unknown: server offers " + offered + " (" +
                      hostkey_type_name(type) + "), and " + t.known_hosts + " has no entry for " + name,
                  "known_hosts");
    case HostKeyVerdict::changed: {
      std::string same = join_fingerprints(pinned, hostkey_type_name(type));
      return fail(Errc::forbidden,
                  "host key for " + where + " changed: server offers " + offered + ", known_hosts has " +
                      (same.empty() ? join_fingerprints(pinned, "") : same),
                  "known_hosts");
    }
  }
  return fail(Errc::internal, "host key check");
}

bool is_session_failure(int rc) { return rc != LIBSSH2_ERROR_SFTP_PROTOCOL; }

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir == ".") return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

}  // namespace

SftpClient::SftpClient(std::unique_ptr<Handles> h, std::string where)
    : h_(std::move(h)), where_(std::move(where)) {}

SftpClient::~SftpClient() {
  if (!h_ || !h_->session) return;
  if (broken_) {
    // Nothing useful can cross a failed session; make the frees below fail fast, not wait.
    ::shutdown(h_->sock, SHUT_RDWR);
    libssh2_session_set_timeout(h_->session, 1000);
  } else {
    // A polite goodbye, but never wait long for a server that went away.
    libssh2_session_set_timeout(h_->session, 2000);
    if (h_->sftp) libssh2_sftp_shutdown(h_->sftp);
    h_->sftp = nullptr;
    libssh2_session_disconnect(h_->session, "lightbox-agent done");
  }
}

Result<std::unique_ptr<SftpClient>> SftpClient::connect(const SftpTarget& t) {
  const std::string where = "sftp://" + t.describe();
  auto pinned = load_host_keys(t.known_hosts, known_hosts_name(t.host, t.port));
  if (!pinned) return std::move(pinned).error();

  const int timeout_ms = static_cast<int>(t.timeout_seconds * 1000);
  auto fd = tcp_connect(t, timeout_ms);
  if (!fd) return std::move(fd).error();
  auto h = std::make_unique<Handles>();
  h->sock = *fd;
  h->password = &t.password.reveal();
  h->session = libssh2_session_init_ex(nullptr, nullptr, nullptr, const_cast<std::string*>(h->password));
  if (!h->session) return fail(Errc::internal, "cannot create an SSH session");
  libssh2_session_set_blocking(h->session, 1);
  libssh2_session_set_timeout(h->session, timeout_ms);

  // Ask for the pinned key types so the server presents the key we can check.
  std::string pref = hostkey_preference(*pinned);
  if (!pref.empty()) (void)libssh2_session_method_pref(h->session, LIBSSH2_METHOD_HOSTKEY, pref.c_str());
  if (int rc = libssh2_session_handshake(h->session, h->sock); rc != 0) {
    std::string msg = last_error(h->session);
    if (rc == LIBSSH2_ERROR_TIMEOUT)
      return fail(Errc::timeout, "SSH handshake with " + t.host + ":" + std::to_string(t.port) + " timed out",
                  "host");
    if (rc == LIBSSH2_ERROR_KEX_FAILURE && !pref.empty()) {
      std::string text = "the server at " + t.host + ":" + std::to_string(t.port) +
                         " offers none of the host key types pinned in " + t.known_hosts + " (" + pref + ")";
      if (pref == "ssh-rsa")
        text +=
            "; RSA host keys need rsa-sha2 signatures, which this build's libssh2 1.10 lacks: pin the "
            "server's "
            "ed25519 or ECDSA key (ssh-keyscan -t ed25519 -p " +
            std::to_string(t.port) + " " + t.host + ")";
      return fail(Errc::forbidden, text, "known_hosts");
    }
    return fail(Errc::network,
                "SSH handshake with " + t.host + ":" + std::to_string(t.port) + " failed: " + msg, "host");
  }
  if (auto s = verify_server(h->session, t, *pinned); !s) return std::move(s).error();

  // Log in.
  const auto ulen = static_cast<unsigned int>(t.username.size());
  const char* methods = libssh2_userauth_list(h->session, t.username.c_str(), ulen);
  if (!methods && !libssh2_userauth_authenticated(h->session)) {
    return fail(Errc::network, where + " closed the connection before login: " + last_error(h->session),
                "host");
  }
  if (!libssh2_userauth_authenticated(h->session)) {
    const std::string offered = methods ? methods : "";
    if (!t.private_key_file.empty()) {
      auto text = fsio::read_file(t.private_key_file);
      if (!text)
        return fail(Errc::invalid_config,
                    "cannot read private key file " + t.private_key_file + ": " + text.error().message,
                    "private_key_file");
      const std::string key_type = private_key_type(*text);
      if (!offers(methods, "publickey"))
        return fail(Errc::unauthorized, where + " does not accept key login (it offers: " + offered + ")",
                    "private_key_file");
      int rc = libssh2_userauth_publickey_fromfile_ex(
          h->session, t.username.c_str(), ulen, nullptr, t.private_key_file.c_str(),
          t.passphrase.empty() ? nullptr : t.passphrase.reveal().c_str());
      if (rc != 0) {
        if (rc == LIBSSH2_ERROR_TIMEOUT)
          return fail(Errc::timeout, where + " timed out during login", "host");
        if (key_type == "ssh-rsa")
          return fail(Errc::unauthorized,
                      "RSA keys need rsa-sha2 signatures, which this build's libssh2 1.10 lacks; use an "
                      "ed25519 or ECDSA key (" +
                          t.private_key_file + " was not accepted by " + where + ")",
                      "private_key_file");
        if (rc == LIBSSH2_ERROR_FILE)
          return fail(Errc::invalid_config,
                      "cannot load private key " + t.private_key_file +
                          " (wrong passphrase or unsupported format: " + last_error(h->session) + ")",
                      "private_key_file");
        return fail(Errc::unauthorized,
                    "key " + t.private_key_file + " rejected by " + where +
                        " (is its public key in the user's authorized_keys?)",
                    "private_key_file");
      }
    } else {
      int rc = LIBSSH2_ERROR_AUTHENTICATION_FAILED;
      if (offers(methods, "password")) {
        rc = libssh2_userauth_password_ex(h->session, t.username.c_str(), ulen, t.password.reveal().c_str(),
                                          static_cast<unsigned int>(t.password.reveal().size()), nullptr);
      } else if (offers(methods, "keyboard-interactive")) {
        rc = libssh2_userauth_keyboard_interactive_ex(h->session, t.username.c_str(), ulen, kbdint_answer);
      } else {
        return fail(Errc::unauthorized,
                    where + " does not accept password login (it offers: " + offered + ")", "password");
      }
      if (rc == LIBSSH2_ERROR_TIMEOUT) return fail(Errc::timeout, where + " timed out during login", "host");
      if (rc == LIBSSH2_ERROR_PASSWORD_EXPIRED)
        return fail(Errc::unauthorized, "the password of " + where + " has expired", "password");
      if (rc != 0) return fail(Errc::unauthorized, "password rejected by " + where, "password");
    }
  }
  h->sftp = libssh2_sftp_init(h->session);
  if (!h->sftp)
    return fail(Errc::network, "SFTP is not available on " + where + ": " + last_error(h->session), "host");
  return std::unique_ptr<SftpClient>(new SftpClient(std::move(h), where));
}

Error SftpClient::session_error(const std::string& what) {
  int code = libssh2_session_last_errno(h_->session);
  broken_ = true;
  return fail(
      code == LIBSSH2_ERROR_TIMEOUT ? Errc::timeout : Errc::network,
      what + " on " + where_ + ": " +
          (code == LIBSSH2_ERROR_TIMEOUT ? std::string("the server did not answer in time")
                                         : "the connection failed (" + last_error(h_->session) + ")"));
}

Error SftpClient::sftp_error(const std::string& what, const std::string& path) {
  if (libssh2_session_last_errno(h_->session) != LIBSSH2_ERROR_SFTP_PROTOCOL)
    return session_error(what + " " + path);
  unsigned long fx = libssh2_sftp_last_error(h_->sftp);
  switch (fx) {
    case LIBSSH2_FX_NO_SUCH_FILE:
    case LIBSSH2_FX_NO_SUCH_PATH:
      return fail(Errc::not_found, what + " " + path + " on " + where_ + ": no such file or folder");
    case LIBSSH2_FX_PERMISSION_DENIED:
      return fail(Errc::forbidden, what + " " + path + " on " + where_ + ": permission denied");
    case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM:
    case LIBSSH2_FX_QUOTA_EXCEEDED:
      return fail(Errc::storage_full, what + " " + path + " on " + where_ + ": no space left");
    default:
      return fail(Errc::io_error,
                  what + " " + path + " on " + where_ + ": SFTP status " + std::to_string(fx));
  }
}

Result<std::vector<RemoteFile>> SftpClient::list(const std::string& root, bool recursive,
                                                 const std::function<bool(const std::string&)>& skip_dir) {
  std::vector<RemoteFile> out;
  std::deque<std::string> dirs{""};  // relative to root
  std::vector<char> name(4096), longentry(1024);
  while (!dirs.empty()) {
    std::string rel = std::move(dirs.front());
    dirs.pop_front();
    std::string abs = rel.empty() ? root : join_path(root, rel);
    LIBSSH2_SFTP_HANDLE* d = libssh2_sftp_open_ex(
        h_->sftp, abs.c_str(), static_cast<unsigned int>(abs.size()), 0, 0, LIBSSH2_SFTP_OPENDIR);
    if (!d) {
      Error e = sftp_error("cannot list", abs);
      // A subfolder that vanished or is not ours to read does not spoil the scan.
      if (!rel.empty() && (e.code == Errc::not_found || e.code == Errc::forbidden)) continue;
      return e;
    }
    for (;;) {
      LIBSSH2_SFTP_ATTRIBUTES a{};
      int n = libssh2_sftp_readdir_ex(d, name.data(), name.size(), longentry.data(), longentry.size(), &a);
      if (n == 0) break;
      if (n < 0) {
        Error e =
            is_session_failure(n) ? session_error("cannot list " + abs) : sftp_error("cannot list", abs);
        if (!broken_) libssh2_sftp_closedir(d);
        return e;
      }
      std::string entry(name.data(), static_cast<std::size_t>(n));
      if (entry == "." || entry == "..") continue;
      std::string child = rel.empty() ? entry : rel + "/" + entry;
      if (!(a.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS)) continue;
      if (LIBSSH2_SFTP_S_ISLNK(a.permissions)) {
        // Follow links to files; never to folders (no cycles).
        std::string full = join_path(root, child);
        if (libssh2_sftp_stat_ex(h_->sftp, full.c_str(), static_cast<unsigned int>(full.size()),
                                 LIBSSH2_SFTP_STAT, &a) != 0) {
          if (libssh2_session_last_errno(h_->session) != LIBSSH2_ERROR_SFTP_PROTOCOL)
            return session_error("cannot stat " + full);  // the handle goes with the session
          continue;                                       // dangling link
        }
        if (!LIBSSH2_SFTP_S_ISREG(a.permissions)) continue;
      }
      if (LIBSSH2_SFTP_S_ISDIR(a.permissions)) {
        if (recursive && !(skip_dir && skip_dir(child))) dirs.push_back(child);
        continue;
      }
      if (!LIBSSH2_SFTP_S_ISREG(a.permissions)) continue;
      RemoteFile f;
      f.rel_path = child;
      f.size = (a.flags & LIBSSH2_SFTP_ATTR_SIZE) ? a.filesize : 0;
      f.mtime_s = (a.flags & LIBSSH2_SFTP_ATTR_ACMODTIME) ? static_cast<std::int64_t>(a.mtime) : 0;
      out.push_back(std::move(f));
    }
    libssh2_sftp_closedir(d);
  }
  return out;
}

Result<RemoteAttrs> SftpClient::stat(const std::string& path) {
  LIBSSH2_SFTP_ATTRIBUTES a{};
  if (libssh2_sftp_stat_ex(h_->sftp, path.c_str(), static_cast<unsigned int>(path.size()), LIBSSH2_SFTP_STAT,
                           &a) != 0) {
    Error e = sftp_error("cannot stat", path);
    if (e.code == Errc::not_found) return RemoteAttrs{};
    return e;
  }
  RemoteAttrs r;
  r.exists = true;
  r.is_dir = (a.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) && LIBSSH2_SFTP_S_ISDIR(a.permissions);
  r.size = (a.flags & LIBSSH2_SFTP_ATTR_SIZE) ? a.filesize : 0;
  r.mtime_s = (a.flags & LIBSSH2_SFTP_ATTR_ACMODTIME) ? static_cast<std::int64_t>(a.mtime) : 0;
  return r;
}

Status SftpClient::download(const std::string& remote, const std::string& local_path,
                            std::uint64_t expected_size) {
  auto slash = local_path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : local_path.substr(0, slash);
  std::string tmpl = dir + "/" + std::string(fsio::kTempPrefix) + "XXXXXX";
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0)
    return fail(fsio::errc_from_errno(errno), "cannot create a file in " + dir + ": " + std::strerror(errno));
  auto give_up = [&](Error e) {
    ::close(fd);
    ::unlink(tmpl.c_str());
    return e;
  };
  LIBSSH2_SFTP_HANDLE* f =
      libssh2_sftp_open_ex(h_->sftp, remote.c_str(), static_cast<unsigned int>(remote.size()),
                           LIBSSH2_FXF_READ, 0, LIBSSH2_SFTP_OPENFILE);
  if (!f) return give_up(sftp_error("cannot open", remote));
  std::vector<char> buf(256 * 1024);
  std::uint64_t total = 0;
  for (;;) {
    ssize_t n = libssh2_sftp_read(f, buf.data(), buf.size());
    if (n == 0) break;
    if (n < 0) {
      Error e = is_session_failure(static_cast<int>(n)) ? session_error("cannot read " + remote)
                                                        : sftp_error("cannot read", remote);
      if (!broken_) libssh2_sftp_close(f);
      return give_up(std::move(e));
    }
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(fd, buf.data() + off, static_cast<std::size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        int err = errno;
        libssh2_sftp_close(f);
        return give_up(fail(fsio::errc_from_errno(err), "cannot write " + tmpl + ": " + std::strerror(err)));
      }
      off += w;
    }
    total += static_cast<std::uint64_t>(n);
  }
  libssh2_sftp_close(f);
  if (total != expected_size)
    return give_up(fail(Errc::conflict, remote + " on " + where_ + " changed while it was downloaded (" +
                                            std::to_string(total) + " bytes, listed " +
                                            std::to_string(expected_size) + ")"));
  if (::close(fd) != 0) {
    ::unlink(tmpl.c_str());
    return fail(Errc::io_error, "cannot write " + tmpl + ": " + std::strerror(errno));
  }
  // The staging copy is disposable (the spool copy is the durable one), so no fsync here.
  if (::rename(tmpl.c_str(), local_path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmpl.c_str());
    return fail(fsio::errc_from_errno(err), "cannot rename into " + local_path + ": " + std::strerror(err));
  }
  return {};
}

Status SftpClient::remove(const std::string& path) {
  if (libssh2_sftp_unlink_ex(h_->sftp, path.c_str(), static_cast<unsigned int>(path.size())) != 0)
    return sftp_error("cannot delete", path);
  return {};
}

Status SftpClient::rename(const std::string& from, const std::string& to) {
  constexpr long kFlags =
      LIBSSH2_SFTP_RENAME_OVERWRITE | LIBSSH2_SFTP_RENAME_ATOMIC | LIBSSH2_SFTP_RENAME_NATIVE;
  auto once = [&] {
    return libssh2_sftp_rename_ex(h_->sftp, from.c_str(), static_cast<unsigned int>(from.size()), to.c_str(),
                                  static_cast<unsigned int>(to.size()), kFlags);
  };
  if (once() == 0) return {};
  Error e = sftp_error("cannot move " + from + " to", to);
  if (broken_) return e;
  // SFTP v3 servers (OpenSSH) refuse to overwrite: an earlier copy sits at the target.
  auto target = stat(to);
  if (!target) return std::move(target).error();
  if (!target->exists || target->is_dir) return e;
  if (auto s = remove(to); !s) return s;
  if (once() == 0) return {};
  return sftp_error("cannot move " + from + " to", to);
}

Status SftpClient::make_dirs(const std::string& path) {
  std::string prefix;
  std::size_t start = 0;
  if (!path.empty() && path[0] == '/') {
    prefix = "/";
    start = 1;
  }
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    start = slash == std::string::npos ? path.size() + 1 : slash + 1;
    if (part.empty() || part == ".") continue;
    prefix = prefix.empty() || prefix == "/" ? prefix + part : prefix + "/" + part;
    auto st = stat(prefix);
    if (!st) return std::move(st).error();
    if (st->exists) {
      if (!st->is_dir) return fail(Errc::conflict, prefix + " on " + where_ + " is a file, not a folder");
      continue;
    }
    if (libssh2_sftp_mkdir_ex(h_->sftp, prefix.c_str(), static_cast<unsigned int>(prefix.size()), 0755) !=
        0) {
      Error e = sftp_error("cannot create folder", prefix);
      if (broken_) return e;
      auto again = stat(prefix);  // created meanwhile by someone else?
      if (!again || !again->exists) return e;
    }
  }
  return {};
}

}  // namespace lightbox::agent::sources::sftp
