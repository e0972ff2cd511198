#include "tests/unit/hub/test_support.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

namespace lightbox::hub::test {

bool write_tiny_dicom(const std::string& path, const TinyDicom& d) {
  DcmFileFormat ff;
  DcmDataset* ds = ff.getDataset();
  bool ok =
      ds->putAndInsertString(DCM_SOPClassUID, UID_SecondaryCaptureImageStorage).good() &&
      ds->putAndInsertString(DCM_SOPInstanceUID, d.sop_instance_uid.c_str()).good() &&
      ds->putAndInsertString(DCM_StudyInstanceUID, d.study_uid.c_str()).good() &&
      ds->putAndInsertString(DCM_SeriesInstanceUID, d.series_uid.c_str()).good() &&
      ds->putAndInsertString(DCM_Modality, d.modality.c_str()).good() &&
      ds->putAndInsertString(DCM_PatientID, d.patient_id.c_str()).good() &&
      ds->putAndInsertString(DCM_PatientName, "Test^Patient").good() &&
      ds->putAndInsertString(DCM_StudyDate, "20261128").good() &&
      ds->putAndInsertString(DCM_AccessionNumber, "ACC1").good() &&
      ds->putAndInsertString(DCM_SeriesNumber, "1").good() &&
      ds->putAndInsertString(DCM_InstanceNumber, "1").good() && ds->putAndInsertUint16(DCM_Rows, 8).good() &&
      ds->putAndInsertUint16(DCM_Columns, 8).good() && ds->putAndInsertUint16(DCM_BitsAllocated, 8).good() &&
      ds->putAndInsertUint16(DCM_BitsStored, 8).good() && ds->putAndInsertUint16(DCM_HighBit, 7).good() &&
      ds->putAndInsertUint16(DCM_SamplesPerPixel, 1).good() &&
      ds->putAndInsertUint16(DCM_PixelRepresentation, 0).good() &&
      ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2").good();
  Uint8 pixels[64];
  for (int i = 0; i < 64; ++i) pixels[i] = static_cast<Uint8>(i * 4);
  ok = ok && ds->putAndInsertUint8Array(DCM_PixelData, pixels, 64).good();
  return ok && ff.saveFile(path.c_str(), EXS_LittleEndianExplicit).good();
}

}  // namespace lightbox::hub::test
