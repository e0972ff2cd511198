// Odd corpus, second half: non-image objects, DICOMDIR, a raw dataset, private sequences,
// hand-crafted bytes (odd value length, unknown transfer syntax, GB18030 name), non-DICOM files.
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrus.h>

#include "tools/corpus/odd_writer.hpp"

namespace lightbox::tools::corpus {
namespace {

void code_item(DcmItem& parent, const DcmTagKey& seq, const char* value, const char* scheme, const char* meaning) {
  DcmItem* item = nullptr;
  if (parent.findOrCreateSequenceItem(seq, item, -2).good() && item != nullptr) {
    item->putAndInsertString(DCM_CodeValue, value);
    item->putAndInsertString(DCM_CodingSchemeDesignator, scheme);
    item->putAndInsertString(DCM_CodeMeaning, meaning);
  }
}

DcmItem* new_item(DcmItem& parent, const DcmTagKey& seq) {
  DcmItem* item = nullptr;
  return parent.findOrCreateSequenceItem(seq, item, -2).good() ? item : nullptr;
}

Status save_object(OddWriter& w, DcmFileFormat& ff, const std::string& name, bool accepted, const char* code = "",
                   E_EncodingType encoding = EET_ExplicitLength) {
  if (auto st = save(ff, w.path(name), EXS_LittleEndianExplicit, encoding); !st) return st;
  w.expect(name, accepted, code);
  return {};
}

Status sr(OddWriter& w) {
  DcmFileFormat ff;
  DcmDataset& ds = *ff.getDataset();
  put_identity(ds, w.next_identity("SR"), UID_BasicTextSRStorage, w.next_sop(), 1);
  ds.putAndInsertString(DCM_ValueType, "CONTAINER");
  code_item(ds, DCM_ConceptNameCodeSequence, "18748-4", "LN", "Diagnostic Imaging Report");
  ds.putAndInsertString(DCM_ContinuityOfContent, "SEPARATE");
  ds.putAndInsertString(DCM_CompletionFlag, "COMPLETE");
  ds.putAndInsertString(DCM_VerificationFlag, "UNVERIFIED");
  if (DcmItem* finding = new_item(ds, DCM_ContentSequence)) {
    finding->putAndInsertString(DCM_RelationshipType, "CONTAINS");
    finding->putAndInsertString(DCM_ValueType, "TEXT");
    code_item(*finding, DCM_ConceptNameCodeSequence, "121071", "DCM", "Finding");
    finding->putAndInsertString(DCM_TextValue, "No acute cardiopulmonary findings.");
  }
  return save_object(w, ff, "sr_basic_text_report.dcm", true, "", EET_UndefinedLength);
}

Status rt_plan(OddWriter& w) {
  DcmFileFormat ff;
  DcmDataset& ds = *ff.getDataset();
  put_identity(ds, w.next_identity("RTPLAN"), UID_RTPlanStorage, w.next_sop(), 1);
  ds.putAndInsertString(DCM_RTPlanLabel, "PLAN1");
  ds.putAndInsertString(DCM_RTPlanDate, "20260101");
  ds.putAndInsertString(DCM_RTPlanGeometry, "PATIENT");
  if (DcmItem* group = new_item(ds, DCM_FractionGroupSequence)) {
    group->putAndInsertString(DCM_FractionGroupNumber, "1");
    group->putAndInsertString(DCM_NumberOfFractionsPlanned, "30");
    group->putAndInsertString(DCM_NumberOfBeams, "0");
    group->putAndInsertString(DCM_NumberOfBrachyApplicationSetups, "0");
  }
  return save_object(w, ff, "rt_plan_no_pixels.dcm", true);
}

Status waveform(OddWriter& w) {
  DcmFileFormat ff;
  DcmDataset& ds = *ff.getDataset();
  put_identity(ds, w.next_identity("ECG"), UID_TwelveLeadECGWaveformStorage, w.next_sop(), 1);
  if (DcmItem* wave = new_item(ds, DCM_WaveformSequence)) {
    wave->putAndInsertString(DCM_MultiplexGroupTimeOffset, "0");
    wave->putAndInsertString(DCM_WaveformOriginality, "ORIGINAL");
    wave->putAndInsertUint16(DCM_NumberOfWaveformChannels, 1);
    wave->putAndInsertUint32(DCM_NumberOfWaveformSamples, 500);
    wave->putAndInsertString(DCM_SamplingFrequency, "500");
    if (DcmItem* channel = new_item(*wave, DCM_ChannelDefinitionSequence)) {
      code_item(*channel, DCM_ChannelSourceSequence, "5.6.3-9-1", "SCPECG", "Lead I (Einthoven)");
      channel->putAndInsertString(DCM_ChannelSensitivity, "1");
      code_item(*channel, DCM_ChannelSensitivityUnitsSequence, "uV", "UCUM", "microvolt");
      channel->putAndInsertUint16(DCM_WaveformBitsStored, 16);
    }
    wave->putAndInsertUint16(DCM_WaveformBitsAllocated, 16);
    wave->putAndInsertString(DCM_WaveformSampleInterpretation, "SS");
    std::vector<Uint16> samples(500);
    for (std::size_t i = 0; i < samples.size(); ++i) samples[i] = static_cast<Uint16>((i % 50) * 20);
    wave->putAndInsertUint16Array(DCM_WaveformData, samples.data(), static_cast<unsigned long>(samples.size()));
  }
  return save_object(w, ff, "waveform_ecg_12lead.dcm", true);
}

Status presentation_state(OddWriter& w) {
  DcmFileFormat ff;
  DcmDataset& ds = *ff.getDataset();
  put_identity(ds, w.next_identity("PR"), UID_GrayscaleSoftcopyPresentationStateStorage, w.next_sop(), 1);
  ds.putAndInsertString(DCM_ContentLabel, "LIGHTBOX");
  ds.putAndInsertString(DCM_ContentDescription, "Window for soft tissue");
  ds.putAndInsertString(DCM_PresentationCreationDate, "20260101");
  ds.putAndInsertString(DCM_PresentationCreationTime, "090000");
  ds.putAndInsertString(DCM_ContentCreatorName, "READER^RITA");
  if (DcmItem* series = new_item(ds, DCM_ReferencedSeriesSequence)) {
    series->putAndInsertString(DCM_SeriesInstanceUID, w.uids().make({9, 77}).c_str());
    if (DcmItem* image = new_item(*series, DCM_ReferencedImageSequence)) {
      image->putAndInsertString(DCM_ReferencedSOPClassUID, UID_CTImageStorage);
      image->putAndInsertString(DCM_ReferencedSOPInstanceUID, w.uids().make({9, 77, 1}).c_str());
    }
  }
  ds.putAndInsertString(DCM_PresentationLUTShape, "IDENTITY");
  return save_object(w, ff, "presentation_state_gsps.dcm", true);
}

Status palette(OddWriter& w) {
  DcmFileFormat ff;
  DcmDataset& ds = *ff.getDataset();
  // The Color Palette IOD has no patient/study; Lightbox requires them, so they are included.
  put_identity(ds, w.next_identity("OT"), UID_ColorPaletteStorage, w.next_sop(), 1);
  ds.putAndInsertString(DCM_ContentLabel, "HOT_IRON");
  const DcmTagKey descriptors[] = {DCM_RedPaletteColorLookupTableDescriptor, DCM_GreenPaletteColorLookupTableDescriptor,
                                   DCM_BluePaletteColorLookupTableDescriptor};
  const DcmTagKey tables[] = {DCM_RedPaletteColorLookupTableData, DCM_GreenPaletteColorLookupTableData,
                              DCM_BluePaletteColorLookupTableData};
  for (int c = 0; c < 3; ++c) {
    auto* d = new DcmUnsignedShort(DcmTag(descriptors[c], EVR_US));
    d->putUint16(256, 0);
    d->putUint16(0, 1);
    d->putUint16(8, 2);
    ds.insert(d, true);
    std::vector<Uint16> lut(256);
    for (int i = 0; i < 256; ++i) lut[i] = static_cast<Uint16>(std::min(255, std::max(0, i * 3 - c * 255)));
    ds.putAndInsertUint16Array(tables[c], lut.data(), 256);
  }
  return save_object(w, ff, "color_palette_no_pixels.dcm", true);
}

Status dicomdir(OddWriter& w) {
  DcmFileFormat ff;
  DcmMetaInfo& meta = *ff.getMetaInfo();
  meta.putAndInsertString(DCM_MediaStorageSOPClassUID, UID_MediaStorageDirectoryStorage);
  meta.putAndInsertString(DCM_MediaStorageSOPInstanceUID, w.next_sop().c_str());
  DcmDataset& ds = *ff.getDataset();
  ds.putAndInsertString(DCM_FileSetID, "LIGHTBOX");
  ds.putAndInsertUint32(DCM_OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity, 0);
  ds.putAndInsertUint32(DCM_OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity, 0);
  ds.putAndInsertUint16(DCM_FileSetConsistencyFlag, 0);
  if (DcmItem* record = new_item(ds, DCM_DirectoryRecordSequence)) {
    record->putAndInsertUint32(DCM_OffsetOfTheNextDirectoryRecord, 0);
    record->putAndInsertUint16(DCM_RecordInUseFlag, 0xFFFF);
    record->putAndInsertUint32(DCM_OffsetOfReferencedLowerLevelDirectoryEntity, 0);
    record->putAndInsertString(DCM_DirectoryRecordType, "PATIENT");
    record->putAndInsertString(DCM_PatientName, "ODD^CORPUS");
    record->putAndInsertString(DCM_PatientID, "LBODD");
  }
  return save_object(w, ff, "DICOMDIR", false, "dicomdir");
}

Status raw_dataset(OddWriter& w) {
  DcmFileFormat ff;
  odd_image(*ff.getDataset(), w, 16);
  const std::string name = "raw_dataset_no_part10_implicit.dcm";
  const OFCondition c = ff.getDataset()->saveFile(w.path(name).c_str(), EXS_LittleEndianImplicit);
  if (c.bad()) return fail(Errc::io_error, "writing " + name + ": " + c.text());
  w.expect(name, true);
  return {};
}

Status private_sequences(OddWriter& w) {
  DcmFileFormat ff;
  DcmDataset& ds = *ff.getDataset();
  odd_image(ds, w, 16);
  ds.putAndInsertString(DcmTag(0x0029, 0x0010, EVR_LO), "LIGHTBOX TEST");
  auto* outer = new DcmSequenceOfItems(DcmTag(0x0029, 0x1010, EVR_SQ));
  for (int i = 0; i < 2; ++i) {
    auto* item = new DcmItem();
    item->putAndInsertString(DcmTag(0x0029, 0x0010, EVR_LO), "LIGHTBOX TEST");
    item->putAndInsertString(DcmTag(0x0029, 0x1011, EVR_LO), ("private value " + std::to_string(i)).c_str());
    auto* inner = new DcmSequenceOfItems(DcmTag(0x0029, 0x1012, EVR_SQ));
    auto* leaf = new DcmItem();
    leaf->putAndInsertString(DcmTag(0x0029, 0x1013, EVR_SH), "NESTED");
    inner->append(leaf);
    item->insert(inner);
    outer->append(item);
  }
  ds.insert(outer, true);
  return save_object(w, ff, "private_sequences_undefined_length.dcm", true, "", EET_UndefinedLength);
}

// Hand-crafted explicit VR little endian element.
void el(std::string& out, Uint16 g, Uint16 e, const char* vr, const std::string& value) {
  const auto u16 = [&out](unsigned v) { out += char(v & 0xFF); out += char((v >> 8) & 0xFF); };
  const auto u32 = [&](std::uint32_t v) { u16(v & 0xFFFF); u16(v >> 16); };
  u16(g);
  u16(e);
  out += vr;
  const std::string v(vr);
  if (v == "OB" || v == "OW" || v == "SQ" || v == "UN" || v == "UT") {
    u16(0);
    u32(static_cast<std::uint32_t>(value.size()));
  } else {
    u16(static_cast<unsigned>(value.size()));
  }
  out += value;
}

std::string uid_value(const std::string& uid) { return uid.size() % 2 ? uid + '\0' : uid; }
std::string us(unsigned v) { return std::string{char(v & 0xFF), char((v >> 8) & 0xFF)}; }

/// A complete small Part 10 file written byte by byte; `name_value` goes in as is.
std::string crafted_file(OddWriter& w, const std::string& ts, const std::string& charset, const std::string& name_value,
                         const std::string& description) {
  const std::string sop = w.next_sop();
  const Identity id = w.next_identity("OT");
  std::string meta;
  el(meta, 0x0002, 0x0001, "OB", std::string("\0\1", 2));
  el(meta, 0x0002, 0x0002, "UI", uid_value(UID_SecondaryCaptureImageStorage));
  el(meta, 0x0002, 0x0003, "UI", uid_value(sop));
  el(meta, 0x0002, 0x0010, "UI", uid_value(ts));
  el(meta, 0x0002, 0x0012, "UI", uid_value(w.uids().make({9, 99})));
  std::string file(128, '\0');
  file += "DICM";
  std::string length;
  length += us(meta.size() & 0xFFFF);
  length += us(meta.size() >> 16);
  el(file, 0x0002, 0x0000, "UL", length);
  file += meta;
  if (!charset.empty()) el(file, 0x0008, 0x0005, "CS", charset.size() % 2 ? charset + ' ' : charset);
  el(file, 0x0008, 0x0016, "UI", uid_value(UID_SecondaryCaptureImageStorage));
  el(file, 0x0008, 0x0018, "UI", uid_value(sop));
  el(file, 0x0008, 0x0060, "CS", "OT");
  el(file, 0x0008, 0x1030, "LO", description);
  el(file, 0x0010, 0x0010, "PN", name_value);
  el(file, 0x0010, 0x0020, "LO", "LBODD ");
  el(file, 0x0020, 0x000D, "UI", uid_value(id.study_uid));
  el(file, 0x0020, 0x000E, "UI", uid_value(id.series_uid));
  el(file, 0x0028, 0x0002, "US", us(1));
  el(file, 0x0028, 0x0004, "CS", "MONOCHROME2 ");
  el(file, 0x0028, 0x0010, "US", us(4));
  el(file, 0x0028, 0x0011, "US", us(4));
  el(file, 0x0028, 0x0100, "US", us(8));
  el(file, 0x0028, 0x0101, "US", us(8));
  el(file, 0x0028, 0x0102, "US", us(7));
  el(file, 0x0028, 0x0103, "US", us(0));
  el(file, 0x7FE0, 0x0010, "OB", std::string(16, '\x40'));
  return file;
}

Status crafted(OddWriter& w) {
  // Odd value lengths (7 and 3 bytes): not conformant, but common and readable.
  if (auto st = write_bytes(w.path("odd_value_length.dcm"),
                            crafted_file(w, UID_LittleEndianExplicitTransferSyntax, "", "ODD^VAL", "ODD"));
      !st) {
    return st;
  }
  w.expect("odd_value_length.dcm", true);
  if (auto st = write_bytes(w.path("unknown_transfer_syntax.dcm"),
                            crafted_file(w, "1.2.840.99999.1.2.1", "", "UNKNOWN^TS", "TS"));
      !st) {
    return st;
  }
  w.expect("unknown_transfer_syntax.dcm", false, "unknown_transfer_syntax");
  // 王^小明 in GB18030 (CD F5 ^ D0 A1 C3 F7); the verifier reports it in UTF-8.
  if (auto st = write_bytes(w.path("charset_gb18030_name.dcm"),
                            crafted_file(w, UID_LittleEndianExplicitTransferSyntax, "GB18030",
                                         "Wang^XiaoMing=\xCD\xF5^\xD0\xA1\xC3\xF7 ", "GB")); !st) {
    return st;
  }
  w.expect("charset_gb18030_name.dcm", true);
  if (auto st = write_bytes(w.path("not_dicom_text.dcm"), "This is a text file, not a DICOM object.\n"); !st) {
    return st;
  }
  w.expect("not_dicom_text.dcm", false, "not_dicom");
  if (auto st = write_bytes(w.path("empty_file.dcm"), ""); !st) return st;
  w.expect("empty_file.dcm", false, "not_dicom");
  return {};
}

}  // namespace

Status write_odd_objects(OddWriter& w) {
  for (auto* step : {&sr, &rt_plan, &waveform, &presentation_state, &palette, &dicomdir, &raw_dataset,
                     &private_sequences, &crafted}) {
    if (auto st = step(w); !st) return st;
  }
  return {};
}

}  // namespace lightbox::tools::corpus
