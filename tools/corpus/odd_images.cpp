// Odd corpus, first half: the same small image in many encodings, and broken images.
#include <unistd.h>

#include <filesystem>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrlerp.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmjpeg/djrplol.h>
#include <dcmtk/dcmjpeg/djrploss.h>
#include <dcmtk/dcmjpls/djrparam.h>
#include <nlohmann/json.hpp>

#include "tools/corpus/odd_writer.hpp"

namespace lightbox::tools::corpus {

Identity OddWriter::next_identity(const char* modality) {
  Identity id;
  id.patient_id = "LBODD";
  id.patient_name = "ODD^CORPUS";
  id.study_uid = uids_.make({9});
  id.study_description = "Odd-variety corpus";
  id.accession = "ACCODD";
  id.series_uid = uids_.make({9, ++series_});
  id.series_number = static_cast<int>(series_);
  id.modality = modality;
  id.series_description = "odd";
  return id;
}

std::string OddWriter::next_sop() { return uids_.make({9, 1000, ++instances_}); }

void OddWriter::expect(const std::string& name, bool accepted, const std::string& reason_code) {
  out_.push_back({name, accepted, reason_code});
}

void odd_image(DcmDataset& ds, OddWriter& w, int bits, int frames) {
  const char* sop_class = bits == 8    ? UID_SecondaryCaptureImageStorage
                          : frames > 1 ? UID_MultiframeGrayscaleWordSecondaryCaptureImageStorage
                                       : UID_CTImageStorage;
  put_identity(ds, w.next_identity(bits == 16 && frames == 1 ? "CT" : "OT"), sop_class, w.next_sop(), 1);
  ImageSpec spec;
  spec.bits_allocated = bits;
  spec.bits_stored = bits == 8 ? 8 : 12;
  spec.frames = frames;
  spec.multiframe = frames > 1;
  put_image_module(ds, spec);
  if (bits == 8) {
    const std::vector<Uint8> px = pattern8(64 * 64 * static_cast<std::size_t>(frames), frames);
    ds.putAndInsertUint8Array(DCM_PixelData, px.data(), static_cast<unsigned long>(px.size()));
  } else {
    std::vector<Uint16> px;
    for (int f = 0; f < frames; ++f) {
      const std::vector<Uint16> one = phantom16(64, 64, f + 1, frames + 1);
      px.insert(px.end(), one.begin(), one.end());
    }
    ds.putAndInsertUint16Array(DCM_PixelData, px.data(), static_cast<unsigned long>(px.size()));
  }
}

namespace {

Status plain(OddWriter& w, const std::string& name, E_TransferSyntax ts, bool accepted, const char* code = "",
             int bits = 16, int frames = 1) {
  DcmFileFormat ff;
  odd_image(*ff.getDataset(), w, bits, frames);
  if (auto st = save(ff, w.path(name), ts); !st) return st;
  w.expect(name, accepted, code);
  return {};
}

Status codec(OddWriter& w, const std::string& name, E_TransferSyntax ts, const DcmRepresentationParameter* param,
             int bits, bool accepted, const char* code = "") {
  DcmFileFormat ff;
  DcmDataset& ds = *ff.getDataset();
  odd_image(ds, w, bits);
  const OFCondition c = ds.chooseRepresentation(ts, param);
  if (c.bad() || !ds.canWriteXfer(ts)) {
    return fail(Errc::internal, "encoding " + name + " failed: " + std::string(c.text()));
  }
  if (auto st = save(ff, w.path(name), ts); !st) return st;
  w.expect(name, accepted, code);
  return {};
}

/// JPEG 2000 cannot be produced by Debian's DCMTK; write correctly tagged fragments by hand
/// (a codestream header that is not a decodable image; verification never decodes).
Status crafted_j2k(OddWriter& w, const std::string& name, E_TransferSyntax ts, bool accepted, const char* code) {
  DcmFileFormat ff;
  DcmDataset& ds = *ff.getDataset();
  put_identity(ds, w.next_identity("CT"), UID_CTImageStorage, w.next_sop(), 1);
  ImageSpec spec;
  put_image_module(ds, spec);
  ds.putAndInsertString(DCM_LossyImageCompression, "00");
  const Uint8 codestream[] = {0xFF, 0x4F,                                     // SOC
                              0xFF, 0x51, 0x00, 0x29, 0x00, 0x00,             // SIZ, Lsiz 41, Rsiz 0
                              0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x40,  // 64 x 64
                              0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // image offset
                              0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x40,  // tile size
                              0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // tile offset
                              0x00, 0x01, 0x0B, 0x01, 0x01,                   // 1 component, 12 bit
                              0xFF, 0xD9, 0x00};                              // EOC + pad to even
  auto* seq = new DcmPixelSequence(DCM_PixelSequenceTag);
  seq->insert(new DcmPixelItem(DCM_PixelItemTag));  // empty basic offset table
  auto* fragment = new DcmPixelItem(DCM_PixelItemTag);
  fragment->putUint8Array(codestream, sizeof codestream);
  seq->insert(fragment);
  auto* pixels = new DcmPixelData(DCM_PixelData);
  pixels->putOriginalRepresentation(ts, nullptr, seq);
  ds.insert(pixels, true);
  if (auto st = save(ff, w.path(name), ts); !st) return st;
  w.expect(name, accepted, code);
  return {};
}

Status truncated(OddWriter& w, const std::string& name, std::uint64_t keep_or_cut, bool cut_from_end) {
  DcmFileFormat ff;
  odd_image(*ff.getDataset(), w, 16);
  const std::string p = w.path(name);
  if (auto st = save(ff, p, EXS_LittleEndianExplicit); !st) return st;
  const std::uint64_t size = file_size(p);
  const std::uint64_t keep = cut_from_end ? size - keep_or_cut : keep_or_cut;
  if (::truncate(p.c_str(), static_cast<off_t>(keep)) != 0) return fail(Errc::io_error, "truncate " + p);
  w.expect(name, false, "truncated");
  return {};
}

}  // namespace

Status write_odd_images(OddWriter& w) {
  register_codecs();
  if (auto st = plain(w, "implicit_vr_little_endian.dcm", EXS_LittleEndianImplicit, true); !st) return st;
  if (auto st = plain(w, "explicit_vr_big_endian.dcm", EXS_BigEndianExplicit, true); !st) return st;
  if (auto st = plain(w, "deflated_explicit_little_endian.dcm", EXS_DeflatedLittleEndianExplicit, true); !st) return st;
  if (auto st = plain(w, "multiframe_native_10_frames.dcm", EXS_LittleEndianExplicit, true, "", 16, 10); !st) return st;

  const DJ_RPLossless lossless(1, 0);
  if (auto st = codec(w, "jpeg_lossless_sv1.dcm", EXS_JPEGProcess14SV1, &lossless, 16, true); !st) return st;
  const DJLSRepresentationParameter jpls(0, OFTrue);
  if (auto st = codec(w, "jpegls_lossless.dcm", EXS_JPEGLSLossless, &jpls, 16, true); !st) return st;
  const DcmRLERepresentationParameter rle;
  if (auto st = codec(w, "rle_lossless.dcm", EXS_RLELossless, &rle, 16, true); !st) return st;
  const DJ_RPLossy lossy(85);
  if (auto st = codec(w, "jpeg_baseline_lossy.dcm", EXS_JPEGProcess1, &lossy, 8, false, "lossy_transfer_syntax"); !st) {
    return st;
  }
  if (auto st = crafted_j2k(w, "jpeg2000_lossless_crafted.dcm", EXS_JPEG2000LosslessOnly, true, ""); !st) return st;
  if (auto st = crafted_j2k(w, "jpeg2000_maybe_lossy_crafted.dcm", EXS_JPEG2000, false, "lossy_transfer_syntax"); !st) {
    return st;
  }

  {  // LossyImageCompression=01 on native pixels: lossy history, even though the syntax is not.
    DcmFileFormat ff;
    odd_image(*ff.getDataset(), w, 16);
    ff.getDataset()->putAndInsertString(DCM_LossyImageCompression, "01");
    if (auto st = save(ff, w.path("lossy_flag_native.dcm"), EXS_LittleEndianExplicit); !st) return st;
    w.expect("lossy_flag_native.dcm", false, "lossy_transfer_syntax");
  }
  {  // Half the pixel data a 64x64 16-bit image needs.
    DcmFileFormat ff;
    DcmDataset& ds = *ff.getDataset();
    odd_image(ds, w, 16);
    const std::vector<Uint16> half = phantom16(32, 64, 1, 1);
    ds.putAndInsertUint16Array(DCM_PixelData, half.data(), static_cast<unsigned long>(half.size()));
    if (auto st = save(ff, w.path("pixel_length_mismatch.dcm"), EXS_LittleEndianExplicit); !st) return st;
    w.expect("pixel_length_mismatch.dcm", false, "pixel_data_length");
  }
  {  // BitsAllocated 1: 10x10 bits packed into 13 bytes, padded to 14 on write.
    DcmFileFormat ff;
    DcmDataset& ds = *ff.getDataset();
    put_identity(ds, w.next_identity("OT"), UID_MultiframeSingleBitSecondaryCaptureImageStorage, w.next_sop(), 1);
    ImageSpec spec;
    spec.rows = spec.cols = 10;
    spec.bits_allocated = spec.bits_stored = 1;
    spec.multiframe = true;
    put_image_module(ds, spec);
    const std::vector<Uint8> bits = pattern8(13, 3);
    ds.putAndInsertUint8Array(DCM_PixelData, bits.data(), static_cast<unsigned long>(bits.size()));
    if (auto st = save(ff, w.path("bits_allocated_1_packed.dcm"), EXS_LittleEndianExplicit); !st) return st;
    w.expect("bits_allocated_1_packed.dcm", true);
  }
  {  // Required attribute absent.
    DcmFileFormat ff;
    odd_image(*ff.getDataset(), w, 16);
    ff.getDataset()->findAndDeleteElement(DCM_SOPInstanceUID);
    ff.getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID, w.next_sop().c_str());
    if (auto st = save(ff, w.path("missing_sop_instance_uid.dcm"), EXS_LittleEndianExplicit); !st) return st;
    w.expect("missing_sop_instance_uid.dcm", false, "missing_attribute");
  }
  {  // A StudyInstanceUID with a leading zero and letters.
    DcmFileFormat ff;
    odd_image(*ff.getDataset(), w, 16);
    ff.getDataset()->putAndInsertString(DCM_StudyInstanceUID, "1.2.840.0123.abc");
    if (auto st = save(ff, w.path("bad_uid_study.dcm"), EXS_LittleEndianExplicit); !st) return st;
    w.expect("bad_uid_study.dcm", false, "invalid_uid");
  }
  if (auto st = truncated(w, "truncated_pixel_data.dcm", 4000, true); !st) return st;
  return truncated(w, "truncated_in_header.dcm", 301, false);
}

Result<std::vector<Expectation>> generate_odd(const std::string& dir, std::uint64_t seed) {
  try {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail(Errc::io_error, "cannot create " + dir + ": " + ec.message(), "out_dir");
    OddWriter w(dir, seed);
    if (auto st = write_odd_images(w); !st) return st.error();
    if (auto st = write_odd_objects(w); !st) return st.error();
    nlohmann::json manifest = nlohmann::json::object();
    for (const Expectation& e : w.expectations()) {
      manifest[e.file] = {{"expect", e.accepted ? "accepted" : "rejected"},
                          {"reason_code", e.accepted ? nlohmann::json() : nlohmann::json(e.reason_code)}};
    }
    if (auto st = write_bytes(dir + "/manifest.json", manifest.dump(2) + "\n"); !st) return st.error();
    return w.expectations();
  } catch (const std::exception& e) {
    return fail(Errc::internal, std::string("odd corpus generation failed: ") + e.what());
  }
}

}  // namespace lightbox::tools::corpus
