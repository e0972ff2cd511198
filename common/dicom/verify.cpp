// DICOM verification with DCMTK: header only, pixel data stays on disk.
//
// reason_code table (stable words; agents quarantine with them, the hub answers 422 with them):
//   unreadable              the file could not be opened or is not a regular file
//   not_dicom               empty, or neither "DICM" at offset 128 nor a plausible first element
//   parse_error             DCMTK refused the encoding (its own message follows)
//   truncated               an element, item or fragment extends beyond the end of the file
//   dicomdir                a media directory (DICOMDIR), not a composite instance
//   no_part10_header        a bare dataset while policy.allow_raw_dataset is false
//   unknown_transfer_syntax transfer syntax UID missing or unknown to DCMTK
//   missing_attribute       a required attribute is absent or empty
//   invalid_uid             a UID is not well formed
//   lossy_transfer_syntax   lossy (or possibly lossy) transfer syntax, or LossyImageCompression=01
//   (missing_attribute also covers an image storage class or Rows without PixelData)
//   pixel_data_length       native pixel data length differs from rows*columns*samples*bytes*frames
#include "common/dicom/verify.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <mutex>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcspchrs.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/oflog/oflog.h>

#include "common/dicom/layout_scan.hpp"

namespace lightbox::dicom {
namespace {

constexpr Uint32 kMaxReadLength = 4096;
constexpr const char* kDicomDirClass = "1.2.840.10008.1.3.10";

/// Owns one file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// DCMTK logs parse warnings to stderr, which would break the programs' JSON-lines logs.
// Only the dcmdata logger is silenced, so a DIMSE source keeps its own logging.
void quiet_dcmdata() {
  static std::once_flag once;
  std::call_once(once, [] { OFLog::getLogger("dcmtk.dcmdata").setLogLevel(OFLogger::OFF_LOG_LEVEL); });
}

std::string trim(std::string s) {
  const auto not_pad = [](char c) { return c != ' ' && c != '\0'; };
  std::size_t b = 0, e = s.size();
  while (b < e && !not_pad(s[b])) ++b;
  while (e > b && !not_pad(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// Header values we read are short. A damaged length field must not make DCMTK load (and
// allocate) gigabytes from disk, so anything longer is treated as absent.
constexpr Uint32 kMaxValueLength = 64 * 1024;

DcmElement* small_element(DcmItem& item, const DcmTagKey& key) {
  DcmElement* el = nullptr;
  if (item.findAndGetElement(key, el).bad() || el == nullptr || el->getLength() > kMaxValueLength) return nullptr;
  return el;
}

std::string get_string(DcmItem& item, const DcmTagKey& key) {
  DcmElement* el = small_element(item, key);
  OFString v;
  if (el == nullptr || el->getOFStringArray(v).bad()) return {};
  return trim(std::string(v.c_str(), v.length()));
}

std::int64_t get_int(DcmItem& item, const DcmTagKey& key, std::int64_t fallback) {
  const std::string s = get_string(item, key);
  std::int64_t v = 0;
  const char* b = s.data();
  if (!s.empty() && s[0] == '+') ++b;
  auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
  return (ec == std::errc() && p == s.data() + s.size() && !s.empty()) ? v : fallback;
}

std::uint32_t get_us(DcmItem& item, const DcmTagKey& key) {
  DcmElement* el = small_element(item, key);
  Uint16 v = 0;
  return el != nullptr && el->getUint16(v).good() ? v : 0;
}

std::string tag_text(const DcmTagKey& key) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "(%04X,%04X)", key.getGroup(), key.getElement());
  return buf;
}

bool needs_conversion(const std::string& charset, const std::string& value) {
  if (charset.empty() || charset == "ISO_IR 192" || charset == "ISO_IR 6") return false;
  for (unsigned char c : value) {
    if (c >= 0x80 || c == 0x1B) return true;
  }
  return false;
}

// A bare dataset starts with a group 0002/0004/0008 tag (either byte order) and a plausible
// VR or length; anything else (text, PDF, JPEG...) is not DICOM.
bool looks_like_raw_dataset(const unsigned char* h, std::size_t n, std::uint64_t size) {
  if (n < 8) return false;
  const unsigned group_le = h[0] | (h[1] << 8);
  const unsigned group_be = (h[0] << 8) | h[1];
  const bool le = group_le == 0x0002 || group_le == 0x0004 || group_le == 0x0008;
  const bool be = group_be == 0x0008;
  if (!le && !be) return false;
  const bool vr_letters = h[4] >= 'A' && h[4] <= 'Z' && h[5] >= 'A' && h[5] <= 'Z';
  const std::uint64_t implicit_len =
      le ? (std::uint64_t(h[4]) | (std::uint64_t(h[5]) << 8) | (std::uint64_t(h[6]) << 16) |
            (std::uint64_t(h[7]) << 24))
         : ((std::uint64_t(h[4]) << 24) | (std::uint64_t(h[5]) << 16) | (std::uint64_t(h[6]) << 8) | h[7]);
  return vr_letters || implicit_len + 8 <= size;
}

/// Everything read from one file, before policy is applied.
struct Analysis {
  std::string code;    // empty when DCMTK parsed the file and nothing structural is wrong
  std::string reason;
  DicomFacts facts;
  std::unique_ptr<DcmFileFormat> file;
  std::string meta_ts;  // (0002,0010) as found; empty without a meta header
  std::string meta_sop_class;
};

void fill_facts(DcmFileFormat& file, DicomFacts& f) {
  DcmDataset& ds = *file.getDataset();
  f.sop_class_uid = get_string(ds, DCM_SOPClassUID);
  f.sop_instance_uid = get_string(ds, DCM_SOPInstanceUID);
  f.study_instance_uid = get_string(ds, DCM_StudyInstanceUID);
  f.series_instance_uid = get_string(ds, DCM_SeriesInstanceUID);
  f.modality = get_string(ds, DCM_Modality);
  f.patient_id = get_string(ds, DCM_PatientID);
  f.patient_sex = get_string(ds, DCM_PatientSex);
  f.patient_birth_date = get_string(ds, DCM_PatientBirthDate);
  f.study_date = get_string(ds, DCM_StudyDate);
  f.study_time = get_string(ds, DCM_StudyTime);
  f.study_description = get_string(ds, DCM_StudyDescription);
  f.series_description = get_string(ds, DCM_SeriesDescription);
  f.accession_number = get_string(ds, DCM_AccessionNumber);
  f.institution_name = get_string(ds, DCM_InstitutionName);
  f.specific_character_set = get_string(ds, DCM_SpecificCharacterSet);
  f.series_number = get_int(ds, DCM_SeriesNumber, 0);
  f.instance_number = get_int(ds, DCM_InstanceNumber, 0);
  f.lossy_compressed = get_string(ds, DCM_LossyImageCompression) == "01";

  f.patient_name = get_string(ds, DCM_PatientName);
  if (needs_conversion(f.specific_character_set, f.patient_name)) {
    DcmSpecificCharacterSet converter;
    OFString out;
    if (converter.selectCharacterSet(f.specific_character_set.c_str()).good() &&
        converter.convertString(f.patient_name.c_str(), out, "\\^=").good()) {
      f.patient_name.assign(out.c_str(), out.length());
    }  // else keep the stored bytes: better a raw name than none
  }

  f.rows = get_us(ds, DCM_Rows);
  f.columns = get_us(ds, DCM_Columns);
  f.bits_allocated = get_us(ds, DCM_BitsAllocated);
  f.samples_per_pixel = get_us(ds, DCM_SamplesPerPixel);
  const std::int64_t frames = get_int(ds, DCM_NumberOfFrames, 1);
  f.number_of_frames = frames > 0 && frames <= 0xFFFFFFFF ? static_cast<std::uint32_t>(frames) : 1;

  DcmElement* px = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, px).good() && px != nullptr) {
    f.has_pixel_data = true;
    f.pixel_data_length = f.ts_encapsulated ? 0xFFFFFFFFu : px->getLength();
  }
  f.is_dicomdir = ds.tagExists(DCM_DirectoryRecordSequence);
}

Analysis analyze(const std::string& path) {
  quiet_dcmdata();
  Analysis a;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    a.code = "unreadable";
    a.reason = "cannot open " + path + ": " + std::strerror(errno);
    return a;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    a.code = "unreadable";
    a.reason = path + " is not a regular file";
    return a;
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size == 0) {
    a.code = "not_dicom";
    a.reason = "the file is empty";
    return a;
  }
  unsigned char head[132] = {};
  const ssize_t got = ::pread(fd.get(), head, sizeof head, 0);
  const std::size_t n = got > 0 ? static_cast<std::size_t>(got) : 0;
  a.facts.part10 = n == 132 && std::memcmp(head + 128, "DICM", 4) == 0;
  if (!a.facts.part10 && !looks_like_raw_dataset(head, n, size)) {
    a.code = "not_dicom";
    a.reason = "no \"DICM\" marker at offset 128 and the file does not start with a DICOM element";
    return a;
  }

  a.file = std::make_unique<DcmFileFormat>();
  const OFCondition cond = a.file->loadFile(path.c_str(), EXS_Unknown, EGL_noChange, kMaxReadLength,
                                            a.facts.part10 ? ERM_fileOnly : ERM_autoDetect);
  DcmMetaInfo* meta = a.file->getMetaInfo();
  if (meta != nullptr) {
    a.meta_ts = get_string(*meta, DCM_TransferSyntaxUID);
    a.meta_sop_class = get_string(*meta, DCM_MediaStorageSOPClassUID);
  }
  E_TransferSyntax xfer = a.file->getDataset()->getOriginalXfer();
  if (!a.meta_ts.empty() && DcmXfer(a.meta_ts.c_str()).getXfer() != EXS_Unknown) {
    xfer = DcmXfer(a.meta_ts.c_str()).getXfer();
  }
  const DcmXfer x(xfer);
  if (xfer != EXS_Unknown) {
    a.facts.transfer_syntax_uid = a.meta_ts.empty() ? x.getXferID() : a.meta_ts;
    a.facts.transfer_syntax_name = x.getXferName();
    a.facts.ts_encapsulated = x.isEncapsulated();
    a.facts.ts_lossy = x.isLossy();
  } else {
    a.facts.transfer_syntax_uid = a.meta_ts;
  }

  // Lazy loading skips big values without reading them, so compare declared lengths with
  // the real size ourselves.
  // Walk with the encoding DCMTK actually detected (it corrects a meta header that lies about
  // implicit/explicit VR); fall back to the declared one.
  const E_TransferSyntax found = a.file->getDataset()->getOriginalXfer();
  const DcmXfer walk(found != EXS_Unknown ? found : xfer);
  detail::Encoding enc;
  enc.little_endian = walk.getXfer() == EXS_Unknown || walk.isLittleEndian();
  enc.explicit_vr = walk.getXfer() == EXS_Unknown || walk.isExplicitVR();
  enc.walk_dataset = walk.getXfer() != EXS_Unknown && x.getStreamCompression() == ESC_none &&
                     walk.getStreamCompression() == ESC_none;
  const detail::LayoutScan scan = detail::scan_layout(fd.get(), size, a.facts.part10 ? 132 : 0, enc);

  // Whatever DCMTK read before an error still tells the quarantine which instance it was.
  fill_facts(*a.file, a.facts);
  if (a.meta_sop_class == kDicomDirClass) a.facts.is_dicomdir = true;
  if (scan.truncated) {
    a.code = "truncated";
    a.reason = "the file is truncated: " + scan.message;
  } else if (cond.bad()) {
    if (a.facts.part10 && !a.meta_ts.empty() && DcmXfer(a.meta_ts.c_str()).getXfer() == EXS_Unknown) {
      a.code = "unknown_transfer_syntax";
      a.reason = "transfer syntax " + a.meta_ts + " in (0002,0010) is not known";
    } else {
      a.code = "parse_error";
      a.reason = std::string("DCMTK could not parse the file: ") + cond.text();
    }
  }
  return a;
}

Verdict reject(Verdict v, std::string code, std::string reason) {
  v.accepted = false;
  v.reason_code = std::move(code);
  v.reason = std::move(reason);
  return v;
}

Verdict apply_rules(Analysis& a, const VerifyPolicy& policy) {
  Verdict v;
  v.facts = a.facts;
  const DicomFacts& f = v.facts;
  if (!a.code.empty()) return reject(std::move(v), a.code, a.reason);
  if (f.is_dicomdir) {
    return reject(std::move(v), "dicomdir", "the file is a DICOMDIR (media directory), not an image or document");
  }
  if (!f.part10 && !policy.allow_raw_dataset) {
    return reject(std::move(v), "no_part10_header",
                  "the file has no Part 10 header (128-byte preamble, \"DICM\", group 0002) and raw datasets are not allowed");
  }
  if (f.part10 && a.meta_ts.empty()) {
    return reject(std::move(v), "unknown_transfer_syntax", "the meta header has no TransferSyntaxUID (0002,0010)");
  }
  if (DcmXfer(f.transfer_syntax_uid.c_str()).getXfer() == EXS_Unknown) {
    return reject(std::move(v), "unknown_transfer_syntax",
                  "transfer syntax " + f.transfer_syntax_uid + " in (0002,0010) is not known");
  }

  DcmDataset& ds = *a.file->getDataset();
  struct Required {
    const DcmTagKey& key;
    const char* name;
  };
  const Required required[] = {{DCM_PatientID, "PatientID"},         {DCM_StudyInstanceUID, "StudyInstanceUID"},
                               {DCM_SeriesInstanceUID, "SeriesInstanceUID"}, {DCM_SOPInstanceUID, "SOPInstanceUID"},
                               {DCM_SOPClassUID, "SOPClassUID"},     {DCM_Modality, "Modality"}};
  for (const Required& r : required) {
    if (!ds.tagExists(r.key)) {
      return reject(std::move(v), "missing_attribute",
                    std::string("required attribute ") + r.name + " " + tag_text(r.key) + " is missing");
    }
    if (get_string(ds, r.key).empty()) {
      return reject(std::move(v), "missing_attribute",
                    std::string("required attribute ") + r.name + " " + tag_text(r.key) + " is empty");
    }
  }
  const std::pair<const std::string*, const char*> uids[] = {
      {&f.study_instance_uid, "StudyInstanceUID (0020,000D)"},
      {&f.series_instance_uid, "SeriesInstanceUID (0020,000E)"},
      {&f.sop_instance_uid, "SOPInstanceUID (0008,0018)"},
      {&f.sop_class_uid, "SOPClassUID (0008,0016)"},
      {&f.transfer_syntax_uid, "TransferSyntaxUID (0002,0010)"}};
  for (const auto& [uid, name] : uids) {
    if (!is_valid_uid(*uid)) {
      return reject(std::move(v), "invalid_uid", std::string(name) + " \"" + *uid + "\" is not a well-formed UID");
    }
  }

  if (!policy.allow_lossy && f.ts_lossy) {
    return reject(std::move(v), "lossy_transfer_syntax",
                  "transfer syntax " + f.transfer_syntax_uid + " (" + f.transfer_syntax_name +
                      ") is lossy and lossy images are not allowed");
  }
  if (!policy.allow_lossy && f.lossy_compressed) {
    return reject(std::move(v), "lossy_transfer_syntax",
                  "LossyImageCompression (0028,2110) is 01: the pixels were lossy compressed before");
  }

  // An image whose pixel data is gone (cut at an element boundary, or stripped) is not an image.
  if (!f.has_pixel_data && !ds.tagExists(DCM_FloatPixelData) && !ds.tagExists(DCM_DoubleFloatPixelData) &&
      (dcmIsaStorageSOPClassUID(f.sop_class_uid.c_str(), ESSC_Image) || ds.tagExists(DCM_Rows))) {
    return reject(std::move(v), "missing_attribute",
                  "required attribute PixelData (7FE0,0010) is missing from an image (SOP class " +
                      f.sop_class_uid + ")");
  }
  if (f.has_pixel_data && !f.ts_encapsulated) {
    if (f.rows == 0 || f.columns == 0 || f.bits_allocated == 0) {
      return reject(std::move(v), "missing_attribute",
                    "pixel data (7FE0,0010) present but Rows (0028,0010), Columns (0028,0011) or BitsAllocated "
                    "(0028,0100) is missing or zero");
    }
    const std::uint64_t samples = f.samples_per_pixel == 0 ? 1 : f.samples_per_pixel;
    const std::uint64_t values = std::uint64_t(f.rows) * f.columns * samples * f.number_of_frames;
    const std::uint64_t expected =
        f.bits_allocated == 1 ? (values + 7) / 8 : values * ((f.bits_allocated + 7) / 8);
    const std::uint64_t found = f.pixel_data_length;
    if (found != expected && !(expected % 2 == 1 && found == expected + 1)) {
      return reject(std::move(v), "pixel_data_length",
                    "pixel data (7FE0,0010) has " + std::to_string(found) + " bytes, expected " +
                        std::to_string(expected) + " (rows " + std::to_string(f.rows) + " x columns " +
                        std::to_string(f.columns) + " x samples " + std::to_string(samples) + " x bits allocated " +
                        std::to_string(f.bits_allocated) + " x frames " + std::to_string(f.number_of_frames) + ")");
    }
  }
  v.accepted = true;
  return v;
}

}  // namespace

Verdict verify_file(const std::string& path, const VerifyPolicy& policy) {
  try {
    Analysis a = analyze(path);
    return apply_rules(a, policy);
  } catch (const std::exception& e) {
    Verdict v;
    return reject(std::move(v), "parse_error", std::string("reading the file failed: ") + e.what());
  } catch (...) {
    Verdict v;
    return reject(std::move(v), "parse_error", "reading the file failed with an unknown exception");
  }
}

Result<DicomFacts> inspect_file(const std::string& path) {
  try {
    Analysis a = analyze(path);
    if (a.code == "unreadable") return fail(Errc::io_error, a.reason, "path");
    if (!a.code.empty()) return fail(Errc::rejected, a.code + ": " + a.reason, "path");
    return std::move(a.facts);
  } catch (const std::exception& e) {
    return fail(Errc::rejected, std::string("parse_error: ") + e.what(), "path");
  } catch (...) {
    return fail(Errc::internal, "inspecting the file failed with an unknown exception", "path");
  }
}

bool is_valid_uid(const std::string& uid) {
  if (uid.empty() || uid.size() > 64) return false;
  std::size_t start = 0;
  while (start <= uid.size()) {
    std::size_t dot = uid.find('.', start);
    if (dot == std::string::npos) dot = uid.size();
    const std::size_t len = dot - start;
    if (len == 0) return false;
    for (std::size_t i = start; i < dot; ++i) {
      if (uid[i] < '0' || uid[i] > '9') return false;
    }
    if (len > 1 && uid[start] == '0') return false;
    start = dot + 1;
  }
  return true;
}

}  // namespace lightbox::dicom
