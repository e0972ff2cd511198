#include "agent/app/health_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "agent/queue/queue.hpp"
#include "common/fsio/atomic_file.hpp"

namespace lightbox::agent::app {

HealthFile::HealthFile(std::string path) : path_(std::move(path)) {
  auto old = read(path_);
  if (old.contains("self_check")) doc_["self_check"] = old["self_check"];
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ >= 0) {
    std::lock_guard lock(mu_);
    write_locked();  // reserves kSize bytes now, while there is room
  }
}

HealthFile::~HealthFile() {
  if (fd_ >= 0) ::close(fd_);
}

void HealthFile::set_disk(bool full, std::int64_t free_mb, std::int64_t min_free_mb) {
  std::lock_guard lock(mu_);
  if (doc_.value("disk_full", !full) == full && doc_.value("spool_free_mb", std::int64_t{-2}) == free_mb) return;
  doc_["disk_full"] = full;
  doc_["spool_free_mb"] = free_mb;
  doc_["min_free_mb"] = min_free_mb;
  write_locked();
}

void HealthFile::set_self_check(const queue::SelfCheckReport& r) {
  std::lock_guard lock(mu_);
  doc_["self_check"] = {{"damaged", r.damaged},
                        {"problem", r.problem.substr(0, 300)},
                        {"moved_to", r.moved_to},
                        {"rebuilt_from_spool", r.rebuilt},
                        {"may_need_recollection", r.may_need_recollection()},
                        {"at_ms", r.at_ms}};
  write_locked();
}

void HealthFile::write_locked() {
  if (fd_ < 0) return;
  doc_["updated_at_ms"] = queue::unix_now_ms();
  std::string text = doc_.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > kSize - 1) return;  // never happens with these fields; never truncate JSON
  text.resize(kSize - 1, ' ');
  text.push_back('\n');
  // In place: the blocks were reserved when the file was created, so a full disk cannot stop it.
  (void)!::pwrite(fd_, text.data(), text.size(), 0);
  (void)::fdatasync(fd_);
}

nlohmann::json HealthFile::read(const std::string& path) {
  auto text = fsio::read_file(path);
  if (!text) return nlohmann::json::object();
  auto j = nlohmann::json::parse(*text, nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

}  // namespace lightbox::agent::app
