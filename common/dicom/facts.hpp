#pragma once
// What the rest of Lightbox knows about a DICOM file: plain structs, no DCMTK types.
// DCMTK lives only in common/dicom (and, later, the DIMSE source).
#include <cstdint>
#include <string>

#include "common/error/result.hpp"

namespace lightbox::dicom {

/// Header facts read from one DICOM file without loading its pixel data.
struct DicomFacts {
  bool part10 = false;           // had the 128-byte preamble + "DICM" + file meta group
  bool is_dicomdir = false;      // a media directory (DICOMDIR), not a composite instance
  std::string transfer_syntax_uid;
  std::string transfer_syntax_name;  // e.g. "JPEG Lossless, Non-Hierarchical, First-Order Prediction"
  bool ts_encapsulated = false;      // pixel data in fragments (JPEG, JPEG-LS, J2K, RLE...)
  bool ts_lossy = false;             // the transfer syntax itself is lossy (or may be)
  bool lossy_compressed = false;     // (0028,2110) LossyImageCompression == "01"

  std::string sop_class_uid;
  std::string sop_instance_uid;
  std::string study_instance_uid;
  std::string series_instance_uid;
  std::string modality;
  std::string patient_id;
  std::string patient_name;          // as stored, converted to UTF-8 where the charset is known
  std::string patient_sex;
  std::string patient_birth_date;
  std::string study_date;
  std::string study_time;
  std::string study_description;
  std::string series_description;
  std::string accession_number;
  std::string institution_name;
  std::string specific_character_set;
  std::int64_t series_number = 0;
  std::int64_t instance_number = 0;

  bool has_pixel_data = false;
  std::uint32_t rows = 0;
  std::uint32_t columns = 0;
  std::uint32_t bits_allocated = 0;
  std::uint32_t samples_per_pixel = 0;
  std::uint32_t number_of_frames = 0;     // 1 when the attribute is absent
  std::uint64_t pixel_data_length = 0;    // value length as found (native) or 0xFFFFFFFF (encapsulated)
};

}  // namespace lightbox::dicom
