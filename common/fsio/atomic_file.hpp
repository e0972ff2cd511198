#pragma once
// Crash-safe files: write under a temporary name in the target directory, fsync, rename to the
// final name, fsync the directory. A crash at any point leaves either nothing or the whole file
// under its final name; stray temporaries carry kTempPrefix so start-up can sweep them.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error/result.hpp"

namespace lightbox::fsio {

inline constexpr std::string_view kTempPrefix = ".lbtmp-";

/// Maps an errno value to the project's codes (ENOSPC/EDQUOT -> storage_full, else io_error).
Errc errc_from_errno(int e) noexcept;

/// An open temporary file. Move-only; the destructor deletes the temporary unless committed.
class AtomicFile {
 public:
  /// Opens a fresh temporary file inside `dir` (created if missing).
  static Result<AtomicFile> create_in(const std::string& dir);
  AtomicFile(AtomicFile&& o) noexcept;
  AtomicFile& operator=(AtomicFile&& o) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  ~AtomicFile();

  Status write(const void* data, std::size_t n);
  Status write(std::string_view s) { return write(s.data(), s.size()); }
  std::uint64_t size() const { return size_; }
  const std::string& temp_path() const { return temp_; }
  /// fsync, rename over `final_path` (same filesystem), fsync the directory.
  Status commit(const std::string& final_path);
  /// Closes and deletes the temporary.
  void abandon();

 private:
  AtomicFile(int fd, std::string temp) : fd_(fd), temp_(std::move(temp)) {}
  int fd_ = -1;
  std::string temp_;
  std::uint64_t size_ = 0;
};

/// fsync a directory so a rename or unlink inside it is durable.
Status fsync_dir(const std::string& dir);
/// Writes a whole small file atomically.
Status write_file_atomic(const std::string& path, std::string_view data);
/// Reads a whole file into memory (small files only: configs, fixtures).
Result<std::string> read_file(const std::string& path);
/// Removes leftover temporaries (kTempPrefix) directly inside `dir`; returns how many.
std::size_t sweep_temporaries(const std::string& dir);

/// Result of a durable, hashed copy.
struct CopyResult {
  std::string sha256;
  std::uint64_t size = 0;
};
/// Copies `src` into a temporary in `dir` while hashing, then commits it as dir/<sha256>.
/// If that name already exists the copy is dropped (content-addressed: same bytes).
Result<CopyResult> copy_into_store(const std::string& src, const std::string& dir);

struct DiskSpace {
  std::uint64_t total = 0;
  std::uint64_t free = 0;  // available to unprivileged users
};
Result<DiskSpace> disk_space(const std::string& path);

}  // namespace lightbox::fsio
