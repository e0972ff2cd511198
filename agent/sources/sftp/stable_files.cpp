#include "agent/sources/sftp/stable_files.hpp"

namespace lightbox::agent::sources::sftp {

bool StableFiles::observe(const std::string& rel_path, std::uint64_t size, std::int64_t mtime_s,
                          std::int64_t now_ms) {
  auto [it, added] = files_.try_emplace(rel_path, Seen{size, mtime_s, now_ms, true});
  Seen& s = it->second;
  s.observed = true;
  if (added) return false;
  if (s.size != size || s.mtime_s != mtime_s) {
    s = Seen{size, mtime_s, now_ms, true};  // still being written
    return false;
  }
  return now_ms - s.since_ms >= stable_ms_;
}

void StableFiles::end_scan() {
  for (auto it = files_.begin(); it != files_.end();) {
    if (!it->second.observed) {
      it = files_.erase(it);
    } else {
      it->second.observed = false;
      ++it;
    }
  }
}

void StableFiles::forget(const std::string& rel_path) { files_.erase(rel_path); }

void StableFiles::restart(const std::string& rel_path, std::int64_t now_ms) {
  if (auto it = files_.find(rel_path); it != files_.end()) it->second.since_ms = now_ms;
}

}  // namespace lightbox::agent::sources::sftp
