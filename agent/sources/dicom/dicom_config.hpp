#pragma once
// Typed config of a `dicom` source and the pure rules around it: which peers may open an
// association with our SCP, and which StudyDate range a moving window covers.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config/reader.hpp"

namespace lightbox::agent::sources::dicom {

/// How studies found by C-FIND are fetched.
enum class Retrieve { move, get, none };

/// A remote application entity that may send to our SCP (host empty = any host).
struct AcceptedPeer {
  std::string ae_title;
  std::string host;
};

/// The PACS we query and retrieve from.
struct PeerPacs {
  std::string ae_title;
  std::string host;
  std::int64_t port = 0;
};

/// Typed config of one dicom source (sources[i] in the agent config).
struct DicomConfig {
  std::string name;
  std::string ae_title = "LIGHTBOX";         // our AE title (SCP, and calling AE as SCU)
  std::string listen_address = "127.0.0.1";  // where our C-STORE SCP listens
  std::int64_t port = 11112;
  std::vector<AcceptedPeer> accepted_peers;
  std::optional<PeerPacs> peer;  // required unless retrieve is "none"
  Retrieve retrieve = Retrieve::move;
  std::int64_t window_days = 2;  // C-FIND StudyDate covers today and the days before
  std::int64_t poll_seconds = 60;
  std::int64_t stable_seconds = 10;  // a study is quiet this long before it is handed over
  std::int64_t max_retries = 3;      // retrieves of a still incomplete study, then it is reported
  std::int64_t connect_timeout_seconds = 10;
  std::int64_t dimse_timeout_seconds = 60;
};

/// Reads the dicom-specific keys of sources[i] (name and poll_seconds are already in `base`);
/// problems carry the full key path.
DicomConfig parse_dicom_config(config::Node& n, DicomConfig base);

/// True for a usable AE title: 1-16 characters, printable ASCII, no backslash, not all spaces.
bool is_valid_ae_title(const std::string& ae);

/// Why an association from (calling_ae at host) asking for called_ae is refused, or nullopt
/// when it is accepted. The PACS of `peer` is accepted from any host unless accepted_peers
/// lists its AE title with a host.
std::optional<std::string> refusal_reason(const DicomConfig& cfg, const std::string& calling_ae,
                                          const std::string& called_ae, const std::string& host);

/// A calendar day.
struct Ymd {
  int year = 1970;
  unsigned month = 1;
  unsigned day = 1;
};

/// The DICOM date range "YYYYMMDD-YYYYMMDD" of `window_days` days ending with `today`.
std::string study_date_range(Ymd today, std::int64_t window_days);
/// Today in the machine's local time zone (study dates are local dates).
Ymd local_today();

}  // namespace lightbox::agent::sources::dicom
