#pragma once
// DIMSE networking for the dicom source, behind plain types: C-ECHO / C-FIND / C-MOVE / C-GET
// as SCU and our C-STORE SCP. DCMTK's dcmnet is used only in this folder's .cpp files.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/sources/dicom/dicom_config.hpp"
#include "agent/sources/dicom/staging.hpp"
#include "agent/sources/dicom/study_ledger.hpp"
#include "common/error/result.hpp"
#include "common/log/logger.hpp"

namespace lightbox::agent::sources::dicom {

/// Process-wide dcmnet set-up, done once: TCP_NODELAY=1 in the environment unless the operator
/// set it (recipes trap 1: DCMTK leaves Nagle on otherwise), DCMTK's own console logging off,
/// no reverse DNS lookups of peers.
void init_dcmnet();

/// Who we are and whom we talk to, for one SCU association.
struct ScuTarget {
  std::string local_ae;
  PeerPacs peer;
  std::int64_t connect_timeout_seconds = 10;
  std::int64_t dimse_timeout_seconds = 60;
};

/// "PACS ORTHANC at 127.0.0.1:4242".
std::string describe(const PeerPacs& p);

/// C-ECHO; the error says in plain words why it failed.
Status echo(const ScuTarget& t);
/// C-FIND at STUDY level (Study Root) for StudyDate in `date_range` ("YYYYMMDD-YYYYMMDD").
Result<std::vector<FoundStudy>> find_studies(const ScuTarget& t, const std::string& date_range);

/// The final answer of a C-MOVE / C-GET.
struct RetrieveResult {
  std::uint16_t status = 0;
  std::int64_t completed = 0;
  std::int64_t failed = 0;
  std::int64_t warning = 0;
  /// Sub-operations the PACS performed (its count of the study's instances), -1 if unknown.
  std::int64_t total() const { return completed + failed + warning > 0 ? completed + failed + warning : -1; }
};

/// C-MOVE of one study to `destination_ae` (our SCP, which the PACS must know by that title).
/// Returns when the PACS sent its final response, i.e. after every sub-operation.
Result<RetrieveResult> move_study(const ScuTarget& t, const std::string& study_uid,
                                  const std::string& destination_ae);
/// C-GET of one study; the instances arrive on the same association and are committed to
/// `staging` as received.
Result<RetrieveResult> get_study(const ScuTarget& t, const std::string& study_uid, Staging& staging,
                                 log::Logger& log);

/// Whether address:port can be bound now (for `check`); the error names the reason.
Status can_listen(const std::string& address, std::int64_t port);

/// Our C-STORE SCP (and C-ECHO) on its own thread. Accepts every storage SOP class in every
/// transfer syntax DCMTK knows (lossless ones preferred), writes each instance as received
/// (Part 10, original transfer syntax) into the staging folder, and refuses associations from
/// peers that refusal_reason() rejects, logging the reason.
class StoreScp {
 public:
  StoreScp(const DicomConfig& cfg, Staging& staging, log::Logger& log);
  ~StoreScp();
  StoreScp(const StoreScp&) = delete;
  StoreScp& operator=(const StoreScp&) = delete;

  /// Binds listen_address:port and starts the thread. An error when the port cannot be bound.
  Status start();
  /// Stops accepting and joins the thread (an association in progress ends within the DIMSE
  /// timeout at worst).
  void stop();
  bool running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lightbox::agent::sources::dicom
