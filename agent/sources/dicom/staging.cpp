#include "agent/sources/dicom/staging.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/dicom/verify.hpp"
#include "common/fsio/atomic_file.hpp"

namespace lightbox::agent::sources::dicom {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSuffix = ".dcm";

Status fsync_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(fsio::errc_from_errno(errno), "cannot open " + path + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return fail(fsio::errc_from_errno(err), "cannot fsync " + path + ": " + std::strerror(err));
  return {};
}

}  // namespace

Staging::Staging(std::string dir, MonotonicMs now)
    : dir_(std::move(dir)), incoming_(dir_ + "/.incoming"), now_(std::move(now)) {}

Status Staging::prepare() {
  std::error_code ec;
  fs::create_directories(incoming_, ec);
  if (ec)
    return fail(Errc::io_error, "cannot create staging folder " + incoming_ + ": " + ec.message(), "staging");
  (void)fsio::sweep_temporaries(incoming_);
  return {};
}

std::string Staging::temp_path() {
  std::lock_guard lock(mu_);
  return incoming_ + "/" + std::string(fsio::kTempPrefix) + std::to_string(::getpid()) + "-" +
         std::to_string(now_()) + "-" + std::to_string(++counter_);
}

Result<std::string> Staging::commit(const std::string& temp, std::string study_uid, std::string sop_uid) {
  if (!lightbox::dicom::is_valid_uid(study_uid)) study_uid = kUnknownStudy;
  if (!lightbox::dicom::is_valid_uid(sop_uid)) {
    std::lock_guard lock(mu_);
    sop_uid = "unnamed-" + std::to_string(now_()) + "-" + std::to_string(++counter_);
  }
  auto cleanup = [&](Error e) {
    ::unlink(temp.c_str());
    return e;
  };
  if (auto s = fsync_file(temp); !s) return cleanup(s.error());
  const std::string study_dir = dir_ + "/" + study_uid;
  std::error_code ec;
  fs::create_directories(study_dir, ec);
  if (ec) return cleanup(fail(Errc::io_error, "cannot create " + study_dir + ": " + ec.message()));
  const std::string final_path = study_dir + "/" + sop_uid + std::string(kSuffix);
  if (::rename(temp.c_str(), final_path.c_str()) != 0)
    return cleanup(
        fail(fsio::errc_from_errno(errno), "cannot rename into " + final_path + ": " + std::strerror(errno)));
  if (auto s = fsio::fsync_dir(study_dir); !s) return s.error();
  std::lock_guard lock(mu_);
  activity_[study_uid] = now_();
  return study_uid + "/" + sop_uid;
}

std::map<std::string, std::vector<StagedFile>> Staging::list() const {
  std::map<std::string, std::vector<StagedFile>> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string study = it->path().filename().string();
    if (study.empty() || study[0] == '.') continue;
    std::error_code dec;
    if (!it->is_directory(dec)) continue;
    for (fs::directory_iterator f(it->path(), dec), fend; !dec && f != fend; f.increment(dec)) {
      const std::string name = f->path().filename().string();
      if (name.size() <= kSuffix.size() ||
          name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0)
        continue;
      struct stat st {};
      if (::stat(f->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      out[study].push_back(
          StagedFile{name.substr(0, name.size() - kSuffix.size()), f->path().string(),
                     static_cast<std::uint64_t>(st.st_size),
                     static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec});
    }
  }
  return out;
}

std::int64_t Staging::last_activity_ms(const std::string& study_uid) {
  std::lock_guard lock(mu_);
  auto [it, added] = activity_.try_emplace(study_uid, 0);
  if (added) it->second = now_();
  return it->second;
}

void Staging::touch(const std::string& study_uid) {
  std::lock_guard lock(mu_);
  activity_[study_uid] = now_();
}

void Staging::remove(const std::string& study_uid, const std::string& sop_uid) {
  const std::string study_dir = dir_ + "/" + study_uid;
  ::unlink((study_dir + "/" + sop_uid + std::string(kSuffix)).c_str());
  ::rmdir(study_dir.c_str());  // only succeeds once the folder is empty
}

void Staging::forget(const std::string& study_uid) {
  std::lock_guard lock(mu_);
  activity_.erase(study_uid);
}

}  // namespace lightbox::agent::sources::dicom
