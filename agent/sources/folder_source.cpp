#include "agent/sources/folder_source.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsio/atomic_file.hpp"

namespace lightbox::agent::sources {
namespace fs = std::filesystem;

std::int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool matches_any(const std::vector<std::string>& globs, const std::string& rel_path) {
  auto slash = rel_path.rfind('/');
  std::string base = slash == std::string::npos ? rel_path : rel_path.substr(slash + 1);
  for (const auto& g : globs) {
    if (::fnmatch(g.c_str(), rel_path.c_str(), 0) == 0) return true;
    if (::fnmatch(g.c_str(), base.c_str(), 0) == 0) return true;
  }
  return false;
}

FolderConfig parse_folder_config(config::Node& n, FolderConfig f) {
  n.get("path", f.path, true);
  if (n.has("path") && f.path.empty()) n.problem("path", "must not be empty");
  n.get("recursive", f.recursive);
  n.get_int("stable_seconds", f.stable_seconds, 1, 86400);
  n.get("include", f.include);
  n.get("exclude", f.exclude);
  std::string after = "keep";
  n.get_enum("after_upload", after, {"keep", "delete", "move"});
  f.after_upload = after == "delete" ? AfterUpload::del : after == "move" ? AfterUpload::move : AfterUpload::keep;
  n.get("move_to", f.move_to);
  if (f.after_upload == AfterUpload::move && f.move_to.empty())
    n.problem("move_to", "is required when after_upload is \"move\"");
  return f;
}

Result<std::string> FolderSource::check() {
  std::error_code ec;
  const std::string& p = cfg_.path;
  if (!fs::exists(p, ec)) return fail(Errc::not_found, "folder " + p + " does not exist", "path");
  if (!fs::is_directory(p, ec)) return fail(Errc::invalid_config, p + " is not a folder", "path");
  if (::access(p.c_str(), R_OK | X_OK) != 0)
    return fail(Errc::forbidden, "folder " + p + " is not readable (" + std::strerror(errno) + ")", "path");
  if (cfg_.after_upload != AfterUpload::keep && ::access(p.c_str(), W_OK) != 0)
    return fail(Errc::forbidden, "folder " + p + " is readable but not writable, and after_upload needs to remove files",
                "after_upload");
  return "folder " + p + " is readable";
}

FolderSource::FolderSource(FolderConfig cfg, SeenStore& seen, MonotonicMs now)
    : cfg_(std::move(cfg)), seen_store_(seen), now_(std::move(now)) {}

namespace {

// The move target, when it lies inside the scanned tree, must not be collected again.
bool inside(const fs::path& child, const fs::path& parent) {
  auto c = child.lexically_normal().string();
  auto p = parent.lexically_normal().string();
  if (!p.empty() && p.back() == '/') p.pop_back();
  return c == p || (c.size() > p.size() && c.compare(0, p.size(), p) == 0 && c[p.size()] == '/');
}

// Nanoseconds since the file's data or inode last changed, by the wall clock.
std::int64_t quiet_since_ns(const struct stat& st) {
  auto ns = [](const timespec& t) { return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; };
  const std::int64_t changed = std::max(ns(st.st_mtim), ns(st.st_ctim));
  const std::int64_t wall = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  return wall - changed;
}

bool is_own_temp(const std::string& name) { return name.rfind(fsio::kTempPrefix, 0) == 0; }

}  // namespace

Result<std::vector<Candidate>> FolderSource::scan() {
  if (!loaded_) {
    auto s = seen_store_.load(cfg_.name);
    if (!s) return std::move(s).error();
    seen_ = std::move(*s);
    loaded_ = true;
  }
  std::error_code ec;
  fs::path root(cfg_.path);
  if (!fs::is_directory(root, ec)) return fail(Errc::not_found, "folder " + cfg_.path + " does not exist", "path");
  if (::access(cfg_.path.c_str(), R_OK | X_OK) != 0)
    return fail(Errc::forbidden, "folder " + cfg_.path + " is not readable: " + std::strerror(errno), "path");

  const std::int64_t now = now_();
  const std::int64_t stable_ms = cfg_.stable_seconds * 1000;
  std::vector<Candidate> out;
  std::map<std::string, Pending> next_pending;
  fs::path move_to = cfg_.after_upload == AfterUpload::move ? fs::path(cfg_.move_to) : fs::path();

  auto consider = [&](const fs::directory_entry& e) {
    std::error_code fec;
    if (!e.is_regular_file(fec)) return;
    std::string name = e.path().filename().string();
    if (is_own_temp(name)) return;
    std::string rel = e.path().lexically_relative(root).generic_string();
    if (!matches_any(cfg_.include, rel) || matches_any(cfg_.exclude, rel)) return;
    struct stat st{};
    if (::stat(e.path().c_str(), &st) != 0) return;  // vanished between listing and stat
    auto size = static_cast<std::uint64_t>(st.st_size);
    std::int64_t mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    if (auto it = seen_.find(rel); it != seen_.end() && it->second.size == size && it->second.mtime_ns == mtime)
      return;  // collected before, unchanged
    auto it = pending_.find(rel);
    if (it != pending_.end() && it->second.size == size && it->second.mtime_ns == mtime) {
      next_pending[rel] = it->second;
      if (now - it->second.first_seen_ms >= stable_ms)
        out.push_back(Candidate{cfg_.name, rel, e.path().string(), size, mtime});
    } else if (it == pending_.end() && quiet_since_ns(st) >= stable_ms * 1'000'000) {
      // First sight of a file nobody has touched (data or inode: ctime cannot be set back by
      // `touch -d` or `cp -p`) for stable_seconds: it is not being written, collect it now.
      out.push_back(Candidate{cfg_.name, rel, e.path().string(), size, mtime});
      next_pending[rel] = Pending{size, mtime, now - stable_ms};
    } else {
      // New or still changing (being written): start the stable clock again.
      next_pending[rel] = Pending{size, mtime, now};
    }
  };

  if (cfg_.recursive) {
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      if (!move_to.empty() && it->is_directory() && inside(it->path(), move_to)) {
        it.disable_recursion_pending();
        continue;
      }
      consider(*it);
    }
  } else {
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) consider(*it);
  }
  if (ec) return fail(Errc::io_error, "cannot list " + cfg_.path + ": " + ec.message(), "path");
  pending_ = std::move(next_pending);
  return out;
}

Status FolderSource::mark_collected(const std::vector<Collected>& batch) {
  if (auto s = seen_store_.put(batch); !s) return s;
  for (const auto& c : batch) {
    seen_[c.candidate.rel_path] = SeenEntry{c.candidate.size, c.candidate.mtime_ns, c.sha256};
    pending_.erase(c.candidate.rel_path);
  }
  return {};
}

Status FolderSource::after_upload(const std::string& rel_path, std::uint64_t size) {
  if (cfg_.after_upload == AfterUpload::keep) return {};
  fs::path src = fs::path(cfg_.path) / rel_path;
  struct stat st{};
  if (::stat(src.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};  // already gone (moved or deleted by someone else)
    return fail(Errc::io_error, "cannot stat " + src.string() + ": " + std::strerror(errno));
  }
  // Never remove bytes the hub has not seen: if the file changed since collection, leave it.
  if (static_cast<std::uint64_t>(st.st_size) != size)
    return fail(Errc::conflict, src.string() + " changed after it was collected; left in place");
  if (cfg_.after_upload == AfterUpload::del) {
    if (::unlink(src.c_str()) != 0 && errno != ENOENT)
      return fail(Errc::io_error, "cannot delete " + src.string() + ": " + std::strerror(errno));
    return {};
  }
  std::lock_guard lock(move_mu_);
  fs::path dst = fs::path(cfg_.move_to) / rel_path;
  std::error_code ec;
  fs::create_directories(dst.parent_path(), ec);
  if (ec) return fail(Errc::io_error, "cannot create " + dst.parent_path().string() + ": " + ec.message());
  fs::rename(src, dst, ec);
  if (ec == std::errc::cross_device_link) {
    fs::copy_file(src, dst, fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::remove(src, ec);
  }
  if (ec) return fail(Errc::io_error, "cannot move " + src.string() + " to " + dst.string() + ": " + ec.message());
  return {};
}

}  // namespace lightbox::agent::sources
