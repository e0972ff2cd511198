#pragma once
// Private to common/dicom: a bounds-only walk over the encoded elements of a DICOM file.
// DCMTK skips large values lazily, so a file cut short inside its pixel data can parse
// "successfully"; this walk compares every declared length with the real file size.
#include <cstdint>
#include <string>

namespace lightbox::dicom::detail {

/// How the dataset after the (optional) meta group is encoded.
struct Encoding {
  bool little_endian = true;
  bool explicit_vr = true;
  bool walk_dataset = true;   // false for deflated datasets: only the meta group is walked
};

/// What the walk found. `truncated` is the only verdict; `message` names tag and offset.
struct LayoutScan {
  bool truncated = false;
  bool gave_up = false;         // met something it cannot walk (unknown VR, too deep); not an error
  std::string message;
};

/// Walks the file `fd` of `file_size` bytes from `start` (132 for Part 10, else 0). Group 0002
/// is read as explicit VR little endian; the rest with `dataset`. Never reads value bytes.
LayoutScan scan_layout(int fd, std::uint64_t file_size, std::uint64_t start, Encoding dataset);

}  // namespace lightbox::dicom::detail
