#include "common/fsio/atomic_file.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fcntl.h>
#include <random>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <vector>

#include "common/hash/sha256.hpp"

namespace lightbox::fsio {
namespace fs = std::filesystem;

Errc errc_from_errno(int e) noexcept {
  return (e == ENOSPC || e == EDQUOT) ? Errc::storage_full : Errc::io_error;
}

namespace {

Error sys_error(const std::string& what, int e) {
  return fail(errc_from_errno(e), what + ": " + std::strerror(e));
}

std::string random_suffix() {
  static std::atomic<std::uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + std::to_string(rng() % 1000000);
}

}  // namespace

Result<AtomicFile> AtomicFile::create_in(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::string temp = dir + "/" + std::string(kTempPrefix) + random_suffix();
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return sys_error("cannot create " + temp, errno);
  return AtomicFile(fd, std::move(temp));
}

AtomicFile::AtomicFile(AtomicFile&& o) noexcept : fd_(o.fd_), temp_(std::move(o.temp_)), size_(o.size_) {
  o.fd_ = -1;
  o.temp_.clear();
}

AtomicFile& AtomicFile::operator=(AtomicFile&& o) noexcept {
  if (this != &o) {
    abandon();
    fd_ = o.fd_;
    temp_ = std::move(o.temp_);
    size_ = o.size_;
    o.fd_ = -1;
    o.temp_.clear();
  }
  return *this;
}

AtomicFile::~AtomicFile() { abandon(); }

Status AtomicFile::write(const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return sys_error("cannot write " + temp_, errno);
    }
    p += w;
    n -= static_cast<std::size_t>(w);
    size_ += static_cast<std::uint64_t>(w);
  }
  return {};
}

Status AtomicFile::commit(const std::string& final_path) {
  if (::fsync(fd_) != 0) return sys_error("cannot fsync " + temp_, errno);
  if (::close(fd_) != 0) {
    fd_ = -1;
    return sys_error("cannot close " + temp_, errno);
  }
  fd_ = -1;
  if (::rename(temp_.c_str(), final_path.c_str()) != 0) return sys_error("cannot rename to " + final_path, errno);
  temp_.clear();
  return fsync_dir(fs::path(final_path).parent_path().string());
}

void AtomicFile::abandon() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_.empty()) ::unlink(temp_.c_str());
  temp_.clear();
}

Status fsync_dir(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error("cannot open directory " + dir, errno);
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0) return sys_error("cannot fsync directory " + dir, e);
  return {};
}

Status write_file_atomic(const std::string& path, std::string_view data) {
  auto f = AtomicFile::create_in(fs::path(path).parent_path().string());
  if (!f) return std::move(f).error();
  if (auto s = f->write(data); !s) return s;
  return f->commit(path);
}

Result<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_error("cannot open " + path, errno);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return sys_error("cannot read " + path, e);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::size_t sweep_temporaries(const std::string& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().rfind(kTempPrefix, 0) == 0 && fs::remove(it->path(), ec)) ++n;
  }
  return n;
}

Result<CopyResult> copy_into_store(const std::string& src, const std::string& dir) {
  int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return sys_error("cannot open " + src, errno);
  auto out = AtomicFile::create_in(dir);
  if (!out) {
    ::close(in);
    return std::move(out).error();
  }
  hash::Sha256 h;
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(in);
      return sys_error("cannot read " + src, e);
    }
    if (n == 0) break;
    h.update(buf.data(), static_cast<std::size_t>(n));
    if (auto s = out->write(buf.data(), static_cast<std::size_t>(n)); !s) {
      ::close(in);
      return std::move(s).error();
    }
  }
  ::close(in);
  CopyResult r{h.finish_hex(), out->size()};
  std::string final_path = dir + "/" + r.sha256;
  struct stat st{};
  if (::stat(final_path.c_str(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) == r.size) {
    out->abandon();
    return r;
  }
  if (auto s = out->commit(final_path); !s) return std::move(s).error();
  return r;
}

Result<DiskSpace> disk_space(const std::string& path) {
  struct statvfs s{};
  if (::statvfs(path.c_str(), &s) != 0) return sys_error("cannot statvfs " + path, errno);
  return DiskSpace{static_cast<std::uint64_t>(s.f_blocks) * s.f_frsize,
                   static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize};
}

}  // namespace lightbox::fsio
