// SCU side of the dicom source: C-ECHO, C-FIND, C-MOVE and C-GET through DCMTK's DcmSCU.
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <unistd.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/dul.h>
#include <dcmtk/dcmnet/scu.h>
#include <dcmtk/oflog/oflog.h>

#include "agent/sources/dicom/dimse.hpp"
#include "agent/sources/dicom/dimse_internal.hpp"

namespace lightbox::agent::sources::dicom {
namespace detail {

std::string read_study_uid(const std::string& path) {
  DcmFileFormat ff;
  // Values longer than 256 bytes (pixel data) stay on disk: only the header is parsed.
  if (ff.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 256).bad()) return {};
  OFString uid;
  if (ff.getDataset()->findAndGetOFString(DCM_StudyInstanceUID, uid).bad()) return {};
  return uid.c_str();
}

const std::vector<std::string>& storage_transfer_syntaxes() {
  static const std::vector<std::string> kList{
      UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
      UID_DeflatedExplicitVRLittleEndianTransferSyntax, UID_BigEndianExplicitTransferSyntax,
      UID_JPEGProcess14SV1TransferSyntax, UID_JPEGProcess14TransferSyntax, UID_JPEGLSLosslessTransferSyntax,
      UID_RLELosslessTransferSyntax, UID_JPEG2000LosslessOnlyTransferSyntax,
      UID_JPEG2000Part2MulticomponentImageCompressionLosslessOnlyTransferSyntax,
      // Lossy syntaxes are accepted too: the verifier quarantines them with their reason
      // (or keeps them when verify.allow_lossy), rather than the sender failing silently.
      UID_JPEGLSLossyTransferSyntax, UID_JPEG2000TransferSyntax, UID_JPEGProcess1TransferSyntax,
      UID_JPEGProcess2_4TransferSyntax, UID_MPEG2MainProfileAtMainLevelTransferSyntax,
      UID_MPEG4HighProfileLevel4_1TransferSyntax, UID_HEVCMainProfileLevel5_1TransferSyntax};
  return kList;
}

const std::vector<std::string>& uncompressed_transfer_syntaxes() {
  static const std::vector<std::string> kList{UID_LittleEndianExplicitTransferSyntax,
                                              UID_LittleEndianImplicitTransferSyntax};
  return kList;
}

}  // namespace detail

namespace {

constexpr std::string_view kCat = "agent.sources.dicom";

OFList<OFString> of_list(const std::vector<std::string>& v) {
  OFList<OFString> out;
  for (const auto& s : v) out.push_back(s.c_str());
  return out;
}

void setup(DcmSCU& scu, const ScuTarget& t) {
  scu.setAETitle(t.local_ae.c_str());
  scu.setPeerHostName(t.peer.host.c_str());
  scu.setPeerPort(static_cast<Uint16>(t.peer.port));
  scu.setPeerAETitle(t.peer.ae_title.c_str());
  scu.setConnectionTimeout(static_cast<Sint32>(t.connect_timeout_seconds));
  scu.setACSETimeout(static_cast<Uint32>(t.connect_timeout_seconds));
  scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
  scu.setDIMSETimeout(static_cast<Uint32>(t.dimse_timeout_seconds));
  scu.setMaxReceivePDULength(ASC_DEFAULTMAXPDU);
  scu.setProgressNotificationMode(OFFalse);
}

// Connects and negotiates; the error is a sentence naming the PACS and what went wrong.
Status open(DcmSCU& scu, const ScuTarget& t, const char* what) {
  OFCondition c = scu.initNetwork();
  if (c.good()) c = scu.negotiateAssociation();
  if (c.good()) return {};
  const std::string who = describe(t.peer);
  if (c == DUL_ASSOCIATIONREJECTED)
    return fail(Errc::forbidden,
                who + " rejected the association for " + what + " (is our AE title " + t.local_ae +
                    " configured on the PACS?)",
                "peer");
  if (c == NET_EC_NoAcceptablePresentationContexts)
    return fail(Errc::upstream, who + " does not offer " + what, "peer");
  const std::string text = c.text();
  if (text.find("Unrecognized PDU") != std::string::npos)
    return fail(Errc::network, who + " answered, but not as a DICOM application (" + text + "): wrong port?",
                "peer");
  return fail(Errc::network, who + " did not answer " + what + ": " + text, "peer");
}

std::string status_words(Uint16 s) {
  switch (s) {
    case 0xA701:
    case 0xA702:
    case 0xA700:
      return "the PACS is out of resources";
    case 0xA801:
      return "the PACS does not know the move destination AE title (add it to the PACS's modalities)";
    case 0xA900:
      return "the identifier does not match the SOP class";
    case 0xB000:
      return "some sub-operations failed";
    case 0xFE00:
      return "the retrieve was cancelled";
    default:
      break;
  }
  if ((s & 0xF000) == 0xC000) return "the PACS was unable to process the request";
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04X", s);
  return std::string("status ") + buf;
}

template <class List>
void free_all(List& l) {
  for (auto* r : l) delete r;
  l.clear();
}

DcmDataset retrieve_keys(const std::string& study_uid) {
  DcmDataset ds;
  ds.putAndInsertOFStringArray(DCM_QueryRetrieveLevel, "STUDY");
  ds.putAndInsertOFStringArray(DCM_StudyInstanceUID, study_uid.c_str());
  return ds;
}

Result<RetrieveResult> final_result(OFList<RetrieveResponse*>& responses, const ScuTarget& t,
                                    const char* what) {
  if (responses.empty()) {
    return fail(Errc::upstream, describe(t.peer) + " ended the " + what + " without a final response",
                "peer");
  }
  RetrieveResponse* last = responses.back();
  RetrieveResult r;
  r.status = last->m_status;
  r.completed = last->m_numberOfCompletedSubops;
  r.failed = last->m_numberOfFailedSubops;
  r.warning = last->m_numberOfWarningSubops;
  free_all(responses);
  if (r.status != STATUS_Success && r.status != 0xB000)
    return fail(Errc::upstream, describe(t.peer) + " " + what + " failed: " + status_words(r.status), "peer");
  return r;
}

/// C-GET receiver: each instance goes straight to a staging temporary, then into place.
class GetScu : public DcmSCU {
 public:
  GetScu(Staging& staging, log::Logger& log) : staging_(staging), log_(log) {}

 protected:
  OFCondition handleSTORERequestFile(T_ASC_PresentationContextID* pres_id, const OFString& /*filename*/,
                                     T_DIMSE_C_StoreRQ* req) override {
    const std::string temp = staging_.temp_path();
    OFCondition c = DcmSCU::handleSTORERequestFile(pres_id, temp.c_str(), req);
    if (c.bad()) {
      ::unlink(temp.c_str());
      return c;
    }
    auto r = staging_.commit(temp, detail::read_study_uid(temp), req->AffectedSOPInstanceUID);
    if (!r) {
      log_.error(kCat, "cannot stage a C-GET instance", {{"error", r.error().to_string()}});
      return EC_IllegalCall;
    }
    return EC_Normal;
  }

 private:
  Staging& staging_;
  log::Logger& log_;
};

}  // namespace

void init_dcmnet() {
  static std::once_flag once;
  std::call_once(once, [] {
    ::setenv("TCP_NODELAY", "1", 0);
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    dcmDisableGethostbyaddr.set(OFTrue);
  });
}

std::string describe(const PeerPacs& p) {
  return "PACS " + p.ae_title + " at " + p.host + ":" + std::to_string(p.port);
}

Status echo(const ScuTarget& t) {
  init_dcmnet();
  DcmSCU scu;
  setup(scu, t);
  scu.addPresentationContext(UID_VerificationSOPClass, of_list(detail::uncompressed_transfer_syntaxes()));
  if (auto s = open(scu, t, "C-ECHO"); !s) return s;
  OFCondition c = scu.sendECHORequest(0);
  scu.releaseAssociation();
  if (c.bad()) return fail(Errc::upstream, describe(t.peer) + " did not answer C-ECHO: " + c.text(), "peer");
  return {};
}

Result<std::vector<FoundStudy>> find_studies(const ScuTarget& t, const std::string& date_range) {
  init_dcmnet();
  DcmSCU scu;
  setup(scu, t);
  scu.addPresentationContext(UID_FINDStudyRootQueryRetrieveInformationModel,
                             of_list(detail::uncompressed_transfer_syntaxes()));
  if (auto s = open(scu, t, "C-FIND"); !s) return s.error();
  T_ASC_PresentationContextID pc =
      scu.findPresentationContextID(UID_FINDStudyRootQueryRetrieveInformationModel, "");
  if (pc == 0) {
    scu.releaseAssociation();
    return fail(Errc::upstream, describe(t.peer) + " does not accept Study Root C-FIND", "peer");
  }
  DcmDataset q;
  q.putAndInsertOFStringArray(DCM_QueryRetrieveLevel, "STUDY");
  q.putAndInsertOFStringArray(DCM_StudyDate, date_range.c_str());
  q.putAndInsertOFStringArray(DCM_StudyInstanceUID, "");
  q.putAndInsertOFStringArray(DCM_NumberOfStudyRelatedInstances, "");
  q.putAndInsertOFStringArray(DCM_AccessionNumber, "");
  q.putAndInsertOFStringArray(DCM_PatientID, "");
  OFList<QRResponse*> responses;
  OFCondition c = scu.sendFINDRequest(pc, &q, &responses);
  scu.releaseAssociation();
  std::vector<FoundStudy> out;
  Uint16 final_status = STATUS_Success;
  for (auto* r : responses) {
    if (r->m_dataset != nullptr && DICOM_PENDING_STATUS(r->m_status)) {
      FoundStudy f;
      OFString uid;
      if (r->m_dataset->findAndGetOFString(DCM_StudyInstanceUID, uid).good()) f.study_uid = uid.c_str();
      Sint32 n = -1;
      OFString text;
      if (r->m_dataset->findAndGetOFString(DCM_NumberOfStudyRelatedInstances, text).good() && !text.empty())
        n = static_cast<Sint32>(std::strtol(text.c_str(), nullptr, 10));
      f.expected = n;
      if (!f.study_uid.empty()) out.push_back(std::move(f));
    } else if (!DICOM_PENDING_STATUS(r->m_status)) {
      final_status = r->m_status;
    }
  }
  free_all(responses);
  if (c.bad()) return fail(Errc::upstream, describe(t.peer) + " C-FIND failed: " + c.text(), "peer");
  if (final_status != STATUS_Success)
    return fail(Errc::upstream, describe(t.peer) + " C-FIND failed: " + status_words(final_status), "peer");
  return out;
}

Result<RetrieveResult> move_study(const ScuTarget& t, const std::string& study_uid,
                                  const std::string& destination_ae) {
  init_dcmnet();
  DcmSCU scu;
  setup(scu, t);
  scu.addPresentationContext(UID_MOVEStudyRootQueryRetrieveInformationModel,
                             of_list(detail::uncompressed_transfer_syntaxes()));
  if (auto s = open(scu, t, "C-MOVE"); !s) return s.error();
  T_ASC_PresentationContextID pc =
      scu.findPresentationContextID(UID_MOVEStudyRootQueryRetrieveInformationModel, "");
  if (pc == 0) {
    scu.releaseAssociation();
    return fail(Errc::upstream, describe(t.peer) + " does not accept Study Root C-MOVE", "peer");
  }
  DcmDataset keys = retrieve_keys(study_uid);
  OFList<RetrieveResponse*> responses;
  OFCondition c = scu.sendMOVERequest(pc, destination_ae.c_str(), &keys, &responses);
  scu.releaseAssociation();
  if (c.bad()) {
    free_all(responses);
    return fail(Errc::upstream, describe(t.peer) + " C-MOVE of study " + study_uid + " failed: " + c.text(),
                "peer");
  }
  return final_result(responses, t, "C-MOVE");
}

Result<RetrieveResult> get_study(const ScuTarget& t, const std::string& study_uid, Staging& staging,
                                 log::Logger& log) {
  init_dcmnet();
  GetScu scu(staging, log);
  setup(scu, t);
  scu.setStorageMode(DCMSCU_STORAGE_BIT_PRESERVING);
  scu.setStorageDir(staging.dir().c_str());
  scu.addPresentationContext(UID_GETStudyRootQueryRetrieveInformationModel,
                             of_list(detail::uncompressed_transfer_syntaxes()));
  // One context per storage SOP class, every transfer syntax in it: the PACS picks the one the
  // file is stored in when it can. 127 contexts at most (one is the C-GET itself).
  const OFList<OFString> ts = of_list(detail::storage_transfer_syntaxes());
  for (int i = 0; i < numberOfDcmLongSCUStorageSOPClassUIDs && i < 120; ++i)
    scu.addPresentationContext(dcmLongSCUStorageSOPClassUIDs[i], ts, ASC_SC_ROLE_SCP);
  if (auto s = open(scu, t, "C-GET"); !s) return s.error();
  T_ASC_PresentationContextID pc =
      scu.findPresentationContextID(UID_GETStudyRootQueryRetrieveInformationModel, "");
  if (pc == 0) {
    scu.releaseAssociation();
    return fail(Errc::upstream, describe(t.peer) + " does not accept Study Root C-GET", "peer");
  }
  DcmDataset keys = retrieve_keys(study_uid);
  OFList<RetrieveResponse*> responses;
  OFCondition c = scu.sendCGETRequest(pc, &keys, &responses);
  scu.releaseAssociation();
  if (c.bad()) {
    free_all(responses);
    return fail(Errc::upstream, describe(t.peer) + " C-GET of study " + study_uid + " failed: " + c.text(),
                "peer");
  }
  return final_result(responses, t, "C-GET");
}

}  // namespace lightbox::agent::sources::dicom
