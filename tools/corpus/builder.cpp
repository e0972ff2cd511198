#include "tools/corpus/builder.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpls/djencode.h>
#include <dcmtk/oflog/oflog.h>

namespace lightbox::tools::corpus {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

UidSource::UidSource(std::uint64_t seed) {
  // Keep the number below 10^19 so every UID stays far under 64 characters.
  const std::uint64_t n = splitmix64(seed) % 9000000000000000000ull + 1000000000000000000ull;
  root_ = "2.25." + std::to_string(n);
}

std::string UidSource::make(std::initializer_list<std::uint64_t> parts) const {
  std::string uid = root_;
  for (std::uint64_t p : parts) uid += "." + std::to_string(p);
  return uid;
}

void put_identity(DcmItem& ds, const Identity& id, const char* sop_class, const std::string& sop_uid,
                  int instance_number) {
  if (!id.charset.empty()) ds.putAndInsertString(DCM_SpecificCharacterSet, id.charset.c_str());
  ds.putAndInsertString(DCM_SOPClassUID, sop_class);
  if (!sop_uid.empty()) ds.putAndInsertString(DCM_SOPInstanceUID, sop_uid.c_str());
  ds.putAndInsertString(DCM_InstanceCreationDate, id.study_date.c_str());
  ds.putAndInsertString(DCM_InstanceCreationTime, id.study_time.c_str());
  ds.putAndInsertString(DCM_StudyDate, id.study_date.c_str());
  ds.putAndInsertString(DCM_SeriesDate, id.study_date.c_str());
  ds.putAndInsertString(DCM_ContentDate, id.study_date.c_str());
  ds.putAndInsertString(DCM_StudyTime, id.study_time.c_str());
  ds.putAndInsertString(DCM_SeriesTime, id.study_time.c_str());
  ds.putAndInsertString(DCM_ContentTime, id.study_time.c_str());
  ds.putAndInsertString(DCM_AccessionNumber, id.accession.c_str());
  ds.putAndInsertString(DCM_Modality, id.modality.c_str());
  ds.putAndInsertString(DCM_Manufacturer, "Lightbox Synthetic");
  ds.putAndInsertString(DCM_InstitutionName, "Lightbox General Hospital");
  ds.putAndInsertString(DCM_ReferringPhysicianName, "REFERRER^ANNA");
  ds.putAndInsertString(DCM_StationName, "LBSIM01");
  ds.putAndInsertString(DCM_StudyDescription, id.study_description.c_str());
  ds.putAndInsertString(DCM_SeriesDescription, id.series_description.c_str());
  ds.putAndInsertString(DCM_PatientName, id.patient_name.c_str());
  ds.putAndInsertString(DCM_PatientID, id.patient_id.c_str());
  ds.putAndInsertString(DCM_PatientBirthDate, id.birth_date.c_str());
  ds.putAndInsertString(DCM_PatientSex, id.patient_sex.c_str());
  ds.putAndInsertString(DCM_StudyInstanceUID, id.study_uid.c_str());
  ds.putAndInsertString(DCM_SeriesInstanceUID, id.series_uid.c_str());
  ds.putAndInsertString(DCM_StudyID, "1");
  ds.putAndInsertString(DCM_SeriesNumber, std::to_string(id.series_number).c_str());
  ds.putAndInsertString(DCM_InstanceNumber, std::to_string(instance_number).c_str());
}

void put_image_module(DcmItem& ds, const ImageSpec& spec) {
  ds.putAndInsertUint16(DCM_SamplesPerPixel, static_cast<Uint16>(spec.samples));
  ds.putAndInsertString(DCM_PhotometricInterpretation, spec.photometric);
  if (spec.samples > 1) ds.putAndInsertUint16(DCM_PlanarConfiguration, 0);
  if (spec.frames > 1 || spec.multiframe) {
    ds.putAndInsertString(DCM_NumberOfFrames, std::to_string(spec.frames).c_str());
  }
  ds.putAndInsertUint16(DCM_Rows, static_cast<Uint16>(spec.rows));
  ds.putAndInsertUint16(DCM_Columns, static_cast<Uint16>(spec.cols));
  ds.putAndInsertUint16(DCM_BitsAllocated, static_cast<Uint16>(spec.bits_allocated));
  ds.putAndInsertUint16(DCM_BitsStored, static_cast<Uint16>(spec.bits_stored));
  ds.putAndInsertUint16(DCM_HighBit, static_cast<Uint16>(spec.bits_stored - 1));
  ds.putAndInsertUint16(DCM_PixelRepresentation, 0);
}

std::vector<Uint16> phantom16(int rows, int cols, int slice, int slices) {
  std::vector<Uint16> px(static_cast<std::size_t>(rows) * cols);
  const int cx = cols / 2, cy = rows / 2;
  const int r_body = std::min(rows, cols) * 42 / 100;
  // Lungs grow and shrink along the series so every slice differs.
  const int phase = slices > 1 ? (slice * 100) / (slices - 1) : 50;
  const int r_lung = r_body * (20 + (phase < 50 ? phase : 100 - phase) / 3) / 100;
  const int r_spine = r_body / 8;
  const long body2 = long(r_body) * r_body, lung2 = long(r_lung) * r_lung, spine2 = long(r_spine) * r_spine;
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) {
      const long dx = x - cx, dy = y - cy;
      int v = 0;
      if (dx * dx + dy * dy <= body2) {
        v = 1064 + ((x * 7 + y * 13 + slice * 31) & 15);
        const long lx = dx < 0 ? dx + r_body * 45 / 100 : dx - r_body * 45 / 100;
        const long ly = dy + r_body / 10;
        if (lx * lx + ly * ly <= lung2) v = 224 + ((x + y + slice) & 7);
        const long sy = dy - r_body / 2;
        if (dx * dx + sy * sy <= spine2) v = 1724 + (slice & 31);
      }
      px[static_cast<std::size_t>(y) * cols + x] = static_cast<Uint16>(v);
    }
  }
  return px;
}

std::vector<Uint8> pattern8(std::size_t n, int salt) {
  std::vector<Uint8> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<Uint8>((i * 3 + (i >> 6) * 5 + salt * 17) & 0xFF);
  return v;
}

Status save(DcmFileFormat& ff, const std::string& path, E_TransferSyntax xfer, E_EncodingType encoding) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const OFCondition c = ff.saveFile(path.c_str(), xfer, encoding, EGL_recalcGL, EPD_noChange, 0, 0,
                                    EWM_fileformat);
  if (c.bad()) return fail(Errc::io_error, "writing " + path + ": " + c.text(), "path");
  return {};
}

void register_codecs() {
  // The JPEG encoder reports routine choices at info level; keep the CLI's stderr for problems.
  OFLog::getLogger("dcmtk.dcmjpeg").setLogLevel(OFLogger::WARN_LOG_LEVEL);
  OFLog::getLogger("dcmtk.dcmimgle").setLogLevel(OFLogger::WARN_LOG_LEVEL);
  DJEncoderRegistration::registerCodecs(ECC_lossyYCbCr, EUC_never);
  DJLSEncoderRegistration::registerCodecs(0, 0, 0, 0, OFTrue, 0, OFTrue, EJLSUC_never);
  DcmRLEEncoderRegistration::registerCodecs();
}

std::uint64_t file_size(const std::string& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<std::uint64_t>(n);
}

Status write_bytes(const std::string& path, const std::string& bytes) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return fail(Errc::io_error, "writing " + path + " failed", "path");
  return {};
}

Result<std::string> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::io_error, "cannot read " + path, "path");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace lightbox::tools::corpus
