#include "hub/store/object_store.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/hash/sha256.hpp"

namespace lightbox::hub::store {
namespace fs = std::filesystem;

namespace {

Error sys_error(const std::string& what, int e) {
  return fail(fsio::errc_from_errno(e), what + ": " + std::strerror(e));
}

Status check_name(const std::string& sha256) {
  if (!hash::is_sha256_hex(sha256))
    return fail(Errc::invalid_argument, "object name is not a SHA-256", "sha256");
  return {};
}

}  // namespace

Result<std::unique_ptr<FsObjectStore>> FsObjectStore::open_at(const std::string& root) {
  std::error_code ec;
  std::string objects = root + "/objects";
  std::string tmp = root + "/tmp";
  for (const auto& d : {objects, tmp}) {
    fs::create_directories(d, ec);
    if (ec) return fail(fsio::errc_from_errno(ec.value()), "cannot create " + d + ": " + ec.message());
  }
  // The fan-out directories below objects/ must not vanish in a crash after objects went in.
  if (auto s = fsio::fsync_dir(root); !s) return std::move(s).error();
  std::size_t swept = fsio::sweep_temporaries(tmp);
  return std::unique_ptr<FsObjectStore>(new FsObjectStore(objects, tmp, swept));
}

std::string FsObjectStore::object_path(const std::string& sha256) const {
  return objects_dir_ + "/" + sha256.substr(0, 2) + "/" + sha256.substr(2, 2) + "/" + sha256;
}

// Creates `dir` if missing and makes its entry durable in the parent. A directory another
// thread just created may not be durable yet, so the first use of each directory in this
// process fsyncs the parent too; after that the set answers.
Status FsObjectStore::ensure_dir(const std::string& dir) {
  {
    std::lock_guard lock(dirs_mu_);
    if (durable_dirs_.count(dir)) return {};
  }
  if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST)
    return sys_error("cannot create directory " + dir, errno);
  if (auto s = fsio::fsync_dir(fs::path(dir).parent_path().string()); !s) return s;
  std::lock_guard lock(dirs_mu_);
  durable_dirs_.insert(dir);
  return {};
}

Status FsObjectStore::put(const std::string& sha256, fsio::AtomicFile&& staged) {
  if (auto s = check_name(sha256); !s) return s;
  std::string path = object_path(sha256);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) == staged.size()) {
    // Same name, same size: the same bytes are already durable (they were fsynced before rename).
    staged.abandon();
    return {};
  }
  std::string level1 = objects_dir_ + "/" + sha256.substr(0, 2);
  if (auto s = ensure_dir(level1); !s) return s;
  if (auto s = ensure_dir(level1 + "/" + sha256.substr(2, 2)); !s) return s;
  return staged.commit(path);
}

Result<std::uint64_t> FsObjectStore::size(const std::string& sha256) const {
  if (auto s = check_name(sha256); !s) return std::move(s).error();
  struct stat st {};
  if (::stat(object_path(sha256).c_str(), &st) != 0) {
    if (errno == ENOENT) return fail(Errc::not_found, "no object " + sha256);
    return sys_error("cannot stat object " + sha256, errno);
  }
  return static_cast<std::uint64_t>(st.st_size);
}

Result<Blob> FsObjectStore::open(const std::string& sha256) const {
  auto n = size(sha256);
  if (!n) return std::move(n).error();
  Blob b;
  b.file_path = object_path(sha256);
  b.size = *n;
  return b;
}

Status FsObjectStore::remove(const std::string& sha256) {
  if (auto s = check_name(sha256); !s) return s;
  std::string path = object_path(sha256);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return fail(Errc::not_found, "no object " + sha256);
    return sys_error("cannot remove object " + sha256, errno);
  }
  return fsio::fsync_dir(fs::path(path).parent_path().string());
}

}  // namespace lightbox::hub::store
