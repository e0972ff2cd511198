// The main corpus: a CT series, an MR series with a Chinese patient name, a CR image, a US
// multi-frame clip, a PDF report, a JPEG photo and exactly one corrupt (truncated) CT slice.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmjpeg/djrploss.h>
#include <nlohmann/json.hpp>

#include "tools/corpus/builder.hpp"
#include "tools/corpus/corpus_gen.hpp"

namespace lightbox::tools::corpus {
namespace {

namespace fs = std::filesystem;

/// Adds a written file to the summary.
void count(Summary& s, const std::string& path, const std::string& modality) {
  s.files += 1;
  s.bytes += file_size(path);
  if (modality.empty()) {
    s.attachments += 1;
  } else {
    s.dicom_files += 1;
    s.by_modality[modality] += 1;
  }
}

std::string slice_name(const char* prefix, int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s_%04d.dcm", prefix, i);
  return buf;
}

/// One CT slice; `z` is 1-based.
void build_ct_slice(DcmDataset& ds, const Identity& id, const UidSource& uids, int z, int slices, int rows, int cols) {
  put_identity(ds, id, UID_CTImageStorage, uids.make({1, 1, 1, static_cast<std::uint64_t>(z)}), z);
  ds.putAndInsertString(DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL");
  ds.putAndInsertString(DCM_BodyPartExamined, "CHEST");
  ds.putAndInsertString(DCM_SliceThickness, "1.25");
  ds.putAndInsertString(DCM_KVP, "120");
  ds.putAndInsertString(DCM_FrameOfReferenceUID, uids.make({1, 1, 9}).c_str());
  ds.putAndInsertString(DCM_PositionReferenceIndicator, "");
  ds.putAndInsertString(DCM_AcquisitionNumber, "1");
  char pos[64];
  const double zpos = -187.5 + (z - 1) * 1.25;
  std::snprintf(pos, sizeof pos, "-175\\-175\\%.2f", zpos);
  ds.putAndInsertString(DCM_ImagePositionPatient, pos);
  ds.putAndInsertString(DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
  std::snprintf(pos, sizeof pos, "%.2f", zpos);
  ds.putAndInsertString(DCM_SliceLocation, pos);
  ds.putAndInsertString(DCM_PixelSpacing, "0.68359375\\0.68359375");
  ImageSpec spec;
  spec.rows = rows;
  spec.cols = cols;
  put_image_module(ds, spec);
  ds.putAndInsertString(DCM_WindowCenter, "40");
  ds.putAndInsertString(DCM_WindowWidth, "400");
  ds.putAndInsertString(DCM_RescaleIntercept, "-1024");
  ds.putAndInsertString(DCM_RescaleSlope, "1");
  ds.putAndInsertString(DCM_RescaleType, "HU");
  const std::vector<Uint16> px = phantom16(rows, cols, z, slices);
  ds.putAndInsertUint16Array(DCM_PixelData, px.data(), static_cast<unsigned long>(px.size()));
}

Status write_ct(const Options& o, const UidSource& uids, Summary& s) {
  Identity id;
  id.patient_id = "LB0001";
  id.patient_name = "DOE^JOHN";
  id.patient_sex = "M";
  id.birth_date = "19610315";
  id.study_uid = uids.make({1});
  id.study_description = "CT CHEST WITHOUT CONTRAST";
  id.accession = "ACC0001";
  id.series_uid = uids.make({1, 1});
  id.modality = "CT";
  id.series_description = "Axial 1.25mm";
  const std::string dir = o.out_dir + "/study1_ct_chest/series1_ct_axial";
  s.studies.push_back("study1_ct_chest");
  for (int z = 1; z <= o.ct_slices; ++z) {
    DcmFileFormat ff;
    build_ct_slice(*ff.getDataset(), id, uids, z, o.ct_slices, o.rows, o.cols);
    const std::string path = dir + "/" + slice_name("ct", z);
    if (auto st = save(ff, path, EXS_LittleEndianExplicit); !st) return st;
    count(s, path, "CT");
  }
  // The one corrupt file: a further valid slice cut in the middle of its pixel data.
  DcmFileFormat ff;
  build_ct_slice(*ff.getDataset(), id, uids, o.ct_slices + 1, o.ct_slices + 1, o.rows, o.cols);
  const std::string path = dir + "/corrupt_truncated.dcm";
  if (auto st = save(ff, path, EXS_LittleEndianExplicit); !st) return st;
  const std::uint64_t full = file_size(path);
  const std::uint64_t cut = full - static_cast<std::uint64_t>(o.rows) * o.cols;  // half the pixel bytes
  if (::truncate(path.c_str(), static_cast<off_t>(cut)) != 0) return fail(Errc::io_error, "truncate " + path);
  count(s, path, "CT");
  s.rejected.push_back({"study1_ct_chest/series1_ct_axial/corrupt_truncated.dcm", false, "truncated"});
  return {};
}

Status write_mr(const Options& o, const UidSource& uids, Summary& s) {
  Identity id;
  id.patient_id = "LB0002";
  id.patient_name = "Wang^XiaoMing=王^小明";
  id.patient_sex = "M";
  id.birth_date = "19850702";
  id.charset = "ISO_IR 192";
  id.study_uid = uids.make({2});
  id.study_description = "MR BRAIN 头颅平扫";
  id.accession = "ACC0002";
  id.series_uid = uids.make({2, 1});
  id.modality = "MR";
  id.series_description = "T1 AX";
  s.studies.push_back("study2_mr_brain");
  constexpr int kSlices = 16, kSize = 256;
  for (int z = 1; z <= kSlices; ++z) {
    DcmFileFormat ff;
    DcmDataset& ds = *ff.getDataset();
    put_identity(ds, id, UID_MRImageStorage, uids.make({2, 1, 1, static_cast<std::uint64_t>(z)}), z);
    ds.putAndInsertString(DCM_ImageType, "ORIGINAL\\PRIMARY\\M\\ND");
    ds.putAndInsertString(DCM_ScanningSequence, "SE");
    ds.putAndInsertString(DCM_SequenceVariant, "NONE");
    ds.putAndInsertString(DCM_MRAcquisitionType, "2D");
    ds.putAndInsertString(DCM_RepetitionTime, "500");
    ds.putAndInsertString(DCM_EchoTime, "12");
    ds.putAndInsertString(DCM_MagneticFieldStrength, "1.5");
    ds.putAndInsertString(DCM_SliceThickness, "5");
    ds.putAndInsertString(DCM_FrameOfReferenceUID, uids.make({2, 1, 9}).c_str());
    ds.putAndInsertString(DCM_PixelSpacing, "0.9375\\0.9375");
    ImageSpec spec;
    spec.rows = spec.cols = kSize;
    put_image_module(ds, spec);
    const std::vector<Uint16> px = phantom16(kSize, kSize, z, kSlices);
    ds.putAndInsertUint16Array(DCM_PixelData, px.data(), static_cast<unsigned long>(px.size()));
    const std::string path = o.out_dir + "/study2_mr_brain/series1_mr_t1/" + slice_name("mr", z);
    if (auto st = save(ff, path, EXS_LittleEndianExplicit); !st) return st;
    count(s, path, "MR");
  }
  return {};
}

Identity jane(const UidSource& uids, std::uint64_t study) {
  Identity id;
  id.patient_id = "LB0003";
  id.patient_name = "ROE^JANE";
  id.patient_sex = "F";
  id.birth_date = "19790910";
  id.study_uid = uids.make({study});
  id.accession = "ACC000" + std::to_string(study);
  id.series_uid = uids.make({study, 1});
  return id;
}

Status write_cr_us(const Options& o, const UidSource& uids, Summary& s) {
  {
    Identity id = jane(uids, 3);
    id.modality = "CR";
    id.study_description = "CHEST PA";
    id.series_description = "PA";
    s.studies.push_back("study3_cr_chest");
    DcmFileFormat ff;
    DcmDataset& ds = *ff.getDataset();
    put_identity(ds, id, UID_ComputedRadiographyImageStorage, uids.make({3, 1, 1, 1}), 1);
    ds.putAndInsertString(DCM_BodyPartExamined, "CHEST");
    ds.putAndInsertString(DCM_ViewPosition, "PA");
    ImageSpec spec;
    spec.rows = spec.cols = 512;
    spec.bits_stored = 12;
    put_image_module(ds, spec);
    const std::vector<Uint16> px = phantom16(512, 512, 7, 15);
    ds.putAndInsertUint16Array(DCM_PixelData, px.data(), static_cast<unsigned long>(px.size()));
    const std::string path = o.out_dir + "/study3_cr_chest/series1_cr/cr_0001.dcm";
    if (auto st = save(ff, path, EXS_LittleEndianExplicit); !st) return st;
    count(s, path, "CR");
  }
  Identity id = jane(uids, 4);
  id.modality = "US";
  id.study_description = "US ABDOMEN";
  id.series_description = "Liver clip";
  s.studies.push_back("study4_us_abdomen");
  DcmFileFormat ff;
  DcmDataset& ds = *ff.getDataset();
  put_identity(ds, id, UID_UltrasoundMultiframeImageStorage, uids.make({4, 1, 1, 1}), 1);
  ImageSpec spec;
  spec.rows = 240;
  spec.cols = 320;
  spec.bits_allocated = spec.bits_stored = 8;
  spec.samples = 3;
  spec.frames = 8;
  spec.photometric = "RGB";
  put_image_module(ds, spec);
  ds.putAndInsertString(DCM_FrameTime, "40");
  ds.putAndInsertTagKey(DCM_FrameIncrementPointer, DCM_FrameTime);
  const std::vector<Uint8> px = pattern8(static_cast<std::size_t>(240) * 320 * 3 * 8, 4);
  ds.putAndInsertUint8Array(DCM_PixelData, px.data(), static_cast<unsigned long>(px.size()));
  const std::string path = o.out_dir + "/study4_us_abdomen/series1_us/us_0001.dcm";
  if (auto st = save(ff, path, EXS_LittleEndianExplicit); !st) return st;
  count(s, path, "US");
  return {};
}

/// A one-page PDF with correct xref offsets, written by hand.
std::string tiny_pdf(const std::string& text) {
  const std::string content = "BT /F1 14 Tf 72 770 Td (" + text + ") Tj ET";
  const std::string objects[] = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
      "/Resources << /Font << /F1 5 0 R >> >> >>",
      "<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content + "\nendstream",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"};
  std::string pdf = "%PDF-1.4\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < 5; ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const std::size_t xref = pdf.size();
  pdf += "xref\n0 6\n0000000000 65535 f \n";
  for (std::size_t off : offsets) {
    char line[24];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", off);
    pdf += line;
  }
  pdf += "trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

/// A small baseline JPEG: DCMTK encodes an 8-bit image and we keep the single fragment.
Result<std::string> tiny_jpeg() {
  register_codecs();
  DcmDataset ds;
  Identity id;
  id.patient_id = "X";
  id.modality = "OT";
  put_identity(ds, id, UID_SecondaryCaptureImageStorage, "1.2.3", 1);
  ImageSpec spec;
  spec.rows = spec.cols = 64;
  spec.bits_allocated = spec.bits_stored = 8;
  put_image_module(ds, spec);
  const std::vector<Uint8> px = pattern8(64 * 64, 9);
  ds.putAndInsertUint8Array(DCM_PixelData, px.data(), static_cast<unsigned long>(px.size()));
  DJ_RPLossy param(90);
  if (ds.chooseRepresentation(EXS_JPEGProcess1, &param).bad()) return fail(Errc::internal, "JPEG encoding failed");
  DcmElement* el = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, el).bad() || el == nullptr) return fail(Errc::internal, "no pixel data");
  DcmPixelSequence* seq = nullptr;
  if (static_cast<DcmPixelData*>(el)->getEncapsulatedRepresentation(EXS_JPEGProcess1, &param, seq).bad() ||
      seq == nullptr) {
    return fail(Errc::internal, "no JPEG representation");
  }
  DcmPixelItem* item = nullptr;
  Uint8* data = nullptr;
  if (seq->getItem(item, 1).bad() || item->getUint8Array(data).bad() || data == nullptr) {
    return fail(Errc::internal, "no JPEG fragment");
  }
  std::string bytes(reinterpret_cast<const char*>(data), item->getLength());
  while (bytes.size() > 2 && bytes.back() == '\0') bytes.pop_back();  // even-length padding
  return bytes;
}

Status write_attachments(const Options& o, Summary& s) {
  const std::string pdf_path = o.out_dir + "/attachments/report_LB0001_ACC0001.pdf";
  if (auto st = write_bytes(pdf_path, tiny_pdf("Lightbox synthetic report: CT chest, no acute findings.")); !st) {
    return st;
  }
  count(s, pdf_path, "");
  auto jpeg = tiny_jpeg();
  if (!jpeg) return jpeg.error();
  const std::string jpg_path = o.out_dir + "/attachments/photo_LB0003_ACC0003.jpg";
  if (auto st = write_bytes(jpg_path, *jpeg); !st) return st;
  count(s, jpg_path, "");
  return {};
}

}  // namespace

Result<Summary> generate(const Options& o) {
  const auto start = std::chrono::steady_clock::now();
  if (o.out_dir.empty()) return fail(Errc::invalid_argument, "output directory is empty", "out_dir");
  if (o.ct_slices < 1 || o.rows < 8 || o.cols < 8 || o.rows > 4096 || o.cols > 4096) {
    return fail(Errc::invalid_argument, "need ct_slices >= 1 and 8 <= rows, cols <= 4096", "ct_slices");
  }
  Summary s;
  s.out_dir = o.out_dir;
  try {
    const UidSource uids(o.seed);
    if (auto st = write_ct(o, uids, s); !st) return st.error();
    if (auto st = write_mr(o, uids, s); !st) return st.error();
    if (auto st = write_cr_us(o, uids, s); !st) return st.error();
    if (auto st = write_attachments(o, s); !st) return st.error();
    if (o.odd) {
      auto odd = generate_odd(o.out_dir + "/odd", o.seed);
      if (!odd) return odd.error();
      s.odd = std::move(*odd);
    }
  } catch (const std::exception& e) {
    return fail(Errc::internal, std::string("corpus generation failed: ") + e.what());
  }
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

std::string summary_json(const Summary& s) {
  nlohmann::json j;
  j["out_dir"] = s.out_dir;
  j["files"] = s.files;
  j["bytes"] = s.bytes;
  j["dicom_files"] = s.dicom_files;
  j["attachments"] = s.attachments;
  j["by_modality"] = s.by_modality;
  j["studies"] = s.studies;
  j["expected_rejected"] = nlohmann::json::array();
  for (const auto& r : s.rejected) j["expected_rejected"].push_back({{"file", r.file}, {"reason_code", r.reason_code}});
  j["expected_accepted_dicom"] = s.dicom_files - s.rejected.size();
  if (!s.odd.empty()) {
    std::size_t rejected = 0;
    for (const auto& e : s.odd) rejected += e.accepted ? 0 : 1;
    j["odd"] = {{"dir", "odd"},
                {"manifest", "odd/manifest.json"},
                {"files", s.odd.size()},
                {"expected_rejected", rejected}};
  }
  j["seconds"] = std::round(s.seconds * 1000) / 1000;
  return j.dump(2);
}

}  // namespace lightbox::tools::corpus
