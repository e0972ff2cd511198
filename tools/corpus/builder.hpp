#pragma once
// Private to tools/corpus: small DCMTK helpers shared by the main and the odd corpus.
#include <cstdint>
#include <string>
#include <vector>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include "common/error/result.hpp"

namespace lightbox::tools::corpus {

/// Deterministic UIDs: 2.25.<64-bit number from the seed>.<components...>.
class UidSource {
 public:
  explicit UidSource(std::uint64_t seed);
  /// root + "." + each component; components must be > 0 so no part has a leading zero.
  std::string make(std::initializer_list<std::uint64_t> parts) const;

 private:
  std::string root_;
};

/// Who and what a generated object belongs to.
struct Identity {
  std::string patient_id;
  std::string patient_name;
  std::string patient_sex = "O";
  std::string birth_date = "19700101";
  std::string charset;          // (0008,0005); empty = default repertoire
  std::string study_uid;
  std::string study_date = "20260101";
  std::string study_time = "083000";
  std::string study_description;
  std::string accession;
  std::string series_uid;
  std::string modality;
  std::string series_description;
  int series_number = 1;
};

/// Patient, study, series and SOP common attributes.
void put_identity(DcmItem& ds, const Identity& id, const char* sop_class, const std::string& sop_uid,
                  int instance_number);

/// Image pixel description; pixel data is added separately.
struct ImageSpec {
  int rows = 64;
  int cols = 64;
  int bits_allocated = 16;
  int bits_stored = 12;
  int samples = 1;
  int frames = 1;               // NumberOfFrames written when > 1 or `multiframe`
  bool multiframe = false;
  const char* photometric = "MONOCHROME2";
};

/// Image pixel module attributes (not the pixel data).
void put_image_module(DcmItem& ds, const ImageSpec& spec);

/// A 16-bit slice of a synthetic body phantom; values fit in 12 bits.
std::vector<Uint16> phantom16(int rows, int cols, int slice, int slices);

/// Deterministic 8-bit pattern of `n` bytes.
std::vector<Uint8> pattern8(std::size_t n, int salt);

/// Saves with a fresh meta header in `xfer`; the error names the path and DCMTK's text.
Status save(DcmFileFormat& ff, const std::string& path, E_TransferSyntax xfer,
            E_EncodingType encoding = EET_ExplicitLength);

/// Registers DCMTK's JPEG, JPEG-LS and RLE encoders (never creating new SOP Instance UIDs).
void register_codecs();

/// Size of the file at `path` (0 when absent).
std::uint64_t file_size(const std::string& path);

/// Writes bytes to a file, replacing it.
Status write_bytes(const std::string& path, const std::string& bytes);

/// Reads a whole file.
Result<std::string> read_bytes(const std::string& path);

}  // namespace lightbox::tools::corpus
