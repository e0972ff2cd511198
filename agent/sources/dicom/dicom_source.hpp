#pragma once
// The `dicom` source: a PACS queried with C-FIND over a moving StudyDate window and retrieved
// with C-MOVE (to our own C-STORE SCP) or C-GET, plus whatever peers push to that SCP.
// Studies are handed over once they have been quiet for stable_seconds.
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "agent/sources/dicom/dicom_config.hpp"
#include "agent/sources/dicom/staging.hpp"
#include "agent/sources/dicom/study_ledger.hpp"
#include "agent/sources/seen_store.hpp"
#include "agent/sources/source.hpp"
#include "common/log/logger.hpp"

namespace lightbox::agent::sources::dicom {

class StoreScp;

/// One configured dicom source. scan/check/mark_collected run on the run loop's thread; the
/// SCP thread (started by the first scan, stopped by the destructor) only writes staged files.
class DicomSource final : public Source {
 public:
  DicomSource(DicomConfig cfg, SeenStore& seen, std::string staging_dir, log::Logger& log,
              MonotonicMs now = steady_now_ms, RisExpected ris = {});
  ~DicomSource() override;

  const std::string& name() const override { return cfg_.name; }
  std::string_view kind() const override { return "dicom"; }
  /// How often the run loop calls scan(): often enough to hand pushed studies over once quiet.
  /// The C-FIND itself runs every cfg.poll_seconds (scan() keeps that clock).
  std::int64_t poll_seconds() const override {
    return std::max<std::int64_t>(1, std::min(cfg_.poll_seconds, cfg_.stable_seconds));
  }
  std::int64_t stable_seconds() const override { return cfg_.stable_seconds; }
  /// C-ECHO to the PACS and whether our SCP can listen (or already does).
  Result<std::string> check() override;
  /// Starts the SCP if needed, queries/retrieves when poll_seconds have passed, and returns
  /// the instances of studies quiet for stable_seconds.
  Result<std::vector<Candidate>> scan() override;
  /// Staged instances of studies that are not quiet yet.
  std::size_t pending() const override { return pending_; }
  /// Records SOPs in the seen-set (rel_path "<study_uid>/<sop_uid>") and deletes staged copies.
  Status mark_collected(const std::vector<Collected>& batch) override;
  /// Nothing to do at the PACS: it keeps its copy.
  Status after_upload(const std::string&, std::uint64_t) override { return {}; }

 private:
  std::string query_and_retrieve();
  std::int64_t have(const std::string& study_uid) const;
  void save_watermark(const std::string& problem);
  std::string counts_path() const { return staging_.dir() + "/.retrieve-counts.json"; }

  DicomConfig cfg_;
  SeenStore& seen_store_;
  log::Logger& log_;
  MonotonicMs now_;
  RisExpected ris_;
  Staging staging_;
  std::unique_ptr<StoreScp> scp_;
  StudyLedger ledger_;
  bool loaded_ = false;
  std::map<std::string, SeenEntry> seen_;
  bool queried_ = false;
  std::int64_t last_query_ms_ = 0;
  std::size_t pending_ = 0;
  std::string window_;
  std::int64_t found_ = -1;
};

}  // namespace lightbox::agent::sources::dicom
