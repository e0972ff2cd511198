#pragma once
// The `folder` source: a local or mounted directory, scanned on a schedule.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "agent/sources/seen_store.hpp"
#include "agent/sources/source.hpp"
#include "common/config/reader.hpp"

namespace lightbox::agent::sources {

/// What happens to a source file once the hub holds it.
enum class AfterUpload { keep, del, move };

/// Typed config of one folder source (sources[i] in the agent config).
struct FolderConfig {
  std::string name;
  std::string path;
  bool recursive = true;
  std::int64_t stable_seconds = 2;
  std::int64_t poll_seconds = 5;
  std::vector<std::string> include{"*"};
  std::vector<std::string> exclude;
  AfterUpload after_upload = AfterUpload::keep;
  std::string move_to;
};

/// Reads the folder-specific keys of sources[i] (name, kind and poll_seconds are read by the
/// caller and passed in `base`); problems carry the full key path.
FolderConfig parse_folder_config(config::Node& n, FolderConfig base);


/// True when `rel_path` (or its file name) matches one of `globs` (fnmatch rules).
bool matches_any(const std::vector<std::string>& globs, const std::string& rel_path);

/// Scans a directory tree. A file becomes a candidate when its size and mtime stayed the same
/// across scans for stable_seconds, and (source, path, size, mtime) is not in the seen-set.
class FolderSource final : public Source {
 public:
  FolderSource(FolderConfig cfg, SeenStore& seen, MonotonicMs now = steady_now_ms);

  const std::string& name() const override { return cfg_.name; }
  std::string_view kind() const override { return "folder"; }
  std::int64_t poll_seconds() const override { return cfg_.poll_seconds; }
  std::int64_t stable_seconds() const override { return cfg_.stable_seconds; }
  Result<std::string> check() override;
  Result<std::vector<Candidate>> scan() override;
  std::size_t pending() const override { return pending_.size(); }
  Status mark_collected(const std::vector<Collected>& batch) override;
  Status after_upload(const std::string& rel_path, std::uint64_t size) override;

 private:
  struct Pending {
    std::uint64_t size;
    std::int64_t mtime_ns;
    std::int64_t first_seen_ms;
  };

  FolderConfig cfg_;
  SeenStore& seen_store_;
  MonotonicMs now_;
  bool loaded_ = false;
  std::map<std::string, SeenEntry> seen_;
  std::map<std::string, Pending> pending_;
  std::mutex move_mu_;  // after_upload may run on several uploader threads
};

}  // namespace lightbox::agent::sources
