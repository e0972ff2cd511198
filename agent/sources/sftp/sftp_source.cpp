#include "agent/sources/sftp/sftp_source.hpp"

#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace lightbox::agent::sources::sftp {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kCat = "agent.sources.sftp";
// Sessions are kept between scans only when scans are this close; otherwise each scan logs in
// afresh rather than leaving an idle session on the hospital's server (and its firewall).
constexpr std::int64_t kKeepSessionSeconds = 60;

std::string normal(const std::string& p) {
  std::string s = fs::path(p).lexically_normal().generic_string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s.empty() ? "." : s;
}

// A relative path that stays inside its root ("a/b", not "../x" or "/x").
bool is_safe_rel(const std::string& rel) {
  if (rel.empty() || rel[0] == '/') return false;
  for (const auto& part : fs::path(rel))
    if (part == "..") return false;
  return true;
}

}  // namespace

SftpConfig parse_sftp_config(config::Node& n, SftpConfig c) {
  n.get("host", c.target.host, true);
  if (n.has("host") && c.target.host.empty()) n.problem("host", "must not be empty");
  std::int64_t port = 22;
  n.get_int("port", port, 1, 65535);
  c.target.port = static_cast<int>(port);
  n.get("username", c.target.username, true);
  if (n.has("username") && c.target.username.empty()) n.problem("username", "must not be empty");
  std::string password, passphrase;
  n.get("password", password);
  n.get("private_key_file", c.target.private_key_file);
  n.get("passphrase", passphrase);
  c.target.password = log::Secret(std::move(password));
  c.target.passphrase = log::Secret(std::move(passphrase));
  const bool has_pw = n.has("password"), has_key = n.has("private_key_file");
  if (has_pw && has_key) n.problem("private_key_file", "set either password or private_key_file, not both");
  if (!has_pw && !has_key) n.problem("password", "is required unless private_key_file is set");
  if (has_key && c.target.private_key_file.empty()) n.problem("private_key_file", "must not be empty");
  if (n.has("passphrase") && !has_key) n.problem("passphrase", "only applies with private_key_file");
  n.get("known_hosts", c.target.known_hosts, true);
  if (n.has("known_hosts") && c.target.known_hosts.empty()) n.problem("known_hosts", "must not be empty");
  n.get_int("timeout_seconds", c.target.timeout_seconds, 1, 600);
  n.get("path", c.path);
  if (n.has("path") && c.path.empty())
    n.problem("path", "must not be empty (use \".\" for the login folder)");
  n.get("recursive", c.recursive);
  n.get_int("stable_seconds", c.stable_seconds, 1, 86400);
  n.get("include", c.include);
  n.get("exclude", c.exclude);
  std::string after = "keep";
  n.get_enum("after_upload", after, {"keep", "delete", "move"});
  c.after_upload = after == "delete" ? AfterUpload::del
                   : after == "move" ? AfterUpload::move
                                     : AfterUpload::keep;
  n.get("move_to", c.move_to);
  if (c.after_upload == AfterUpload::move && c.move_to.empty())
    n.problem("move_to", "is required when after_upload is \"move\"");
  if (c.after_upload == AfterUpload::move && !c.move_to.empty() && normal(c.move_to) == normal(c.path))
    n.problem("move_to", "must differ from path");
  return c;
}

SftpSource::SftpSource(SftpConfig cfg, SeenStore& seen, std::string staging_dir, log::Logger& log,
                       MonotonicMs now)
    : cfg_(std::move(cfg)),
      seen_store_(seen),
      staging_(std::move(staging_dir)),
      log_(log),
      now_(std::move(now)),
      stable_(cfg_.stable_seconds * 1000) {
  if (cfg_.after_upload == AfterUpload::move) {
    std::string root = normal(cfg_.path), target = normal(cfg_.move_to);
    const bool root_abs = root[0] == '/', target_abs = target[0] == '/';
    if (root == "." && !target_abs && is_safe_rel(target)) {
      move_rel_ = target;
    } else if (root_abs == target_abs && target.size() > root.size() + 1 &&
               target.compare(0, root.size(), root) == 0 && (target[root.size()] == '/' || root == "/")) {
      move_rel_ = target.substr(root == "/" ? 1 : root.size() + 1);
    }
  }
}

SftpSource::~SftpSource() = default;

std::string SftpSource::remote_path(const std::string& rel_path) const {
  const std::string& p = cfg_.path;
  if (p.empty() || p == ".") return rel_path;
  return p.back() == '/' ? p + rel_path : p + "/" + rel_path;
}

bool SftpSource::skip_dir(const std::string& rel_dir) const {
  if (move_rel_.empty()) return false;
  return rel_dir == move_rel_ ||
         (rel_dir.size() > move_rel_.size() && rel_dir.compare(0, move_rel_.size(), move_rel_) == 0 &&
          rel_dir[move_rel_.size()] == '/');
}

Result<std::string> SftpSource::check() {
  auto c = SftpClient::connect(cfg_.target);
  if (!c) return std::move(c).error();
  const std::string where = "sftp://" + cfg_.target.describe();
  auto st = (*c)->stat(cfg_.path);
  if (!st) return std::move(st).error();
  if (!st->exists)
    return fail(Errc::not_found, "folder " + cfg_.path + " does not exist on " + where, "path");
  if (!st->is_dir) return fail(Errc::invalid_config, cfg_.path + " on " + where + " is not a folder", "path");
  auto files = (*c)->list(cfg_.path, false, {});
  if (!files) return std::move(files).error();
  if (cfg_.after_upload == AfterUpload::move) {
    auto mt = (*c)->stat(cfg_.move_to);
    if (mt.ok() && mt->exists && !mt->is_dir)
      return fail(Errc::invalid_config,
                  "move_to " + cfg_.move_to + " on " + where + " is a file, not a folder", "move_to");
  }
  return where + ": host key matches known_hosts, logged in with " +
         (cfg_.target.private_key_file.empty() ? std::string("password")
                                               : "key " + cfg_.target.private_key_file) +
         ", folder " + cfg_.path + " lists " + std::to_string(files->size()) + " file(s)";
}

Result<std::vector<RemoteFile>> SftpSource::list_with_retry() {
  auto skip = [this](const std::string& rel) { return skip_dir(rel); };
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = scan_client_ != nullptr;
    if (!scan_client_) {
      auto c = SftpClient::connect(cfg_.target);
      if (!c) return std::move(c).error();
      scan_client_ = std::move(*c);
    }
    auto files = scan_client_->list(cfg_.path, cfg_.recursive, skip);
    if (files.ok()) return files;
    if (!scan_client_->broken()) return files;
    scan_client_.reset();
    if (!reused) return files;  // a fresh session failed: no point in trying again now
    log_.info(kCat, "session lost, reconnecting", {{"source", cfg_.name}, {"error", files.error().message}});
  }
  return fail(Errc::network, "unreachable");
}

Result<std::vector<Candidate>> SftpSource::scan() {
  if (!loaded_) {
    auto s = seen_store_.load(cfg_.name);
    if (!s) return std::move(s).error();
    seen_ = std::move(*s);
    // Staged copies left by an earlier run are fetched again when still needed.
    std::error_code ec;
    fs::remove_all(staging_, ec);
    loaded_ = true;
  }
  auto files = list_with_retry();
  if (!files) return std::move(files).error();

  const std::int64_t now = now_();
  std::vector<RemoteFile> ready;
  for (const auto& f : *files) {
    if (!matches_any(cfg_.include, f.rel_path) || matches_any(cfg_.exclude, f.rel_path)) continue;
    const std::int64_t mtime_ns = f.mtime_s * 1'000'000'000;
    if (auto it = seen_.find(f.rel_path);
        it != seen_.end() && it->second.size == f.size && it->second.mtime_ns == mtime_ns)
      continue;  // collected before, unchanged
    if (stable_.observe(f.rel_path, f.size, f.mtime_s, now)) ready.push_back(f);
  }
  stable_.end_scan();

  std::vector<Candidate> out;
  for (const auto& f : ready) {
    if (!is_safe_rel(f.rel_path)) continue;
    std::string local = staging_ + "/" + f.rel_path;
    std::error_code ec;
    fs::create_directories(fs::path(local).parent_path(), ec);
    if (ec)
      return fail(Errc::io_error, "cannot create staging folder " + fs::path(local).parent_path().string() +
                                      ": " + ec.message());
    auto got = scan_client_->download(remote_path(f.rel_path), local, f.size);
    if (!got) {
      if (scan_client_->broken()) {
        scan_client_.reset();
        if (out.empty()) return std::move(got).error();
        log_.warn(kCat, "session lost during downloads; the rest waits for the next scan",
                  {{"source", cfg_.name}, {"error", got.error().message}});
        break;
      }
      if (got.error().code == Errc::conflict) stable_.restart(f.rel_path, now_());
      log_.warn(kCat, "download failed",
                {{"source", cfg_.name}, {"path", f.rel_path}, {"error", got.error().message}});
      continue;
    }
    out.push_back(Candidate{cfg_.name, f.rel_path, local, f.size, f.mtime_s * 1'000'000'000, {}});
  }
  if (cfg_.poll_seconds > kKeepSessionSeconds) scan_client_.reset();
  return out;
}

Status SftpSource::mark_collected(const std::vector<Collected>& batch) {
  if (auto s = seen_store_.put(batch); !s) return s;
  for (const auto& c : batch) {
    seen_[c.candidate.rel_path] = SeenEntry{c.candidate.size, c.candidate.mtime_ns, c.sha256};
    stable_.forget(c.candidate.rel_path);
    ::unlink(c.candidate.abs_path.c_str());  // the spool holds the bytes now
  }
  return {};
}

Status SftpSource::apply_after_upload(SftpClient& c, const std::string& rel_path, std::uint64_t size) {
  const std::string src = remote_path(rel_path);
  auto st = c.stat(src);
  if (!st) return std::move(st).error();
  if (!st->exists) return {};  // already gone (moved or deleted by someone else)
  // Never remove bytes the hub has not seen: if the file changed since collection, leave it.
  if (st->size != size)
    return fail(Errc::conflict, src + " changed on the server after it was collected; left in place");
  if (cfg_.after_upload == AfterUpload::del) return c.remove(src);
  std::string dst = cfg_.move_to.back() == '/' ? cfg_.move_to + rel_path : cfg_.move_to + "/" + rel_path;
  auto slash = dst.rfind('/');
  if (slash != std::string::npos && slash > 0)
    if (auto s = c.make_dirs(dst.substr(0, slash)); !s) return s;
  return c.rename(src, dst);
}

Status SftpSource::after_upload(const std::string& rel_path, std::uint64_t size) {
  if (cfg_.after_upload == AfterUpload::keep) return {};
  if (!is_safe_rel(rel_path))
    return fail(Errc::invalid_argument, "refusing to touch " + rel_path + " outside the source path");
  std::lock_guard lock(action_mu_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = action_client_ != nullptr;
    if (!action_client_) {
      auto c = SftpClient::connect(cfg_.target);
      if (!c) return std::move(c).error();
      action_client_ = std::move(*c);
    }
    auto s = apply_after_upload(*action_client_, rel_path, size);
    if (s.ok() || !action_client_->broken()) return s;
    action_client_.reset();
    if (!reused) return s;
  }
  return fail(Errc::network, "unreachable");
}

}  // namespace lightbox::agent::sources::sftp
