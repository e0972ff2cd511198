#pragma once
// The dicom source's staging folder: received instances land here as
// <staging>/<study_uid>/<sop_uid>.dcm (temp + fsync + rename), written by the SCP or C-GET
// thread and handed over by scan(). Remembers when each study last received something.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "agent/sources/source.hpp"
#include "common/error/result.hpp"

namespace lightbox::agent::sources::dicom {

/// Study folder used when a received instance carries no usable Study Instance UID; the
/// verifier then quarantines it with its reason instead of it being dropped.
inline constexpr const char* kUnknownStudy = "unknown-study";

/// One staged instance.
struct StagedFile {
  std::string sop_uid;  // file name without ".dcm"
  std::string abs_path;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
};

/// Thread-safe owner of the staging folder.
class Staging {
 public:
  Staging(std::string dir, MonotonicMs now);

  const std::string& dir() const { return dir_; }
  /// Creates the folders and removes temporaries a crash left behind.
  Status prepare();
  /// A fresh temporary path to receive one instance into (same filesystem as the target).
  std::string temp_path();
  /// fsyncs `temp`, renames it to <study>/<sop>.dcm and fsyncs the folder. Invalid UIDs are
  /// replaced (study by kUnknownStudy, sop by a unique name) so nothing received is lost.
  Result<std::string> commit(const std::string& temp, std::string study_uid, std::string sop_uid);

  /// Every staged instance by study (temporaries excluded).
  std::map<std::string, std::vector<StagedFile>> list() const;
  /// Monotonic ms of the study's last commit; when unknown (staged by an earlier run) the first
  /// call records "now", so such a study waits out stable_seconds once.
  std::int64_t last_activity_ms(const std::string& study_uid);
  /// Marks the study active now (a retrieve for it is starting).
  void touch(const std::string& study_uid);
  /// Deletes a staged file (and its study folder once empty).
  void remove(const std::string& study_uid, const std::string& sop_uid);
  /// Forgets activity of studies that have no staged files any more.
  void forget(const std::string& study_uid);

 private:
  std::string dir_;
  std::string incoming_;
  MonotonicMs now_;
  mutable std::mutex mu_;
  std::map<std::string, std::int64_t> activity_;
  std::uint64_t counter_ = 0;
};

}  // namespace lightbox::agent::sources::dicom
