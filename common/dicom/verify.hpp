#pragma once
// The agent's (and the hub's) verdict on one file: DICOM rules from DESIGN.md "Verify".
#include <string>
#include <vector>

#include "common/dicom/facts.hpp"

namespace lightbox::dicom {

/// What the deployment allows. Defaults are the strict, safe ones.
struct VerifyPolicy {
  bool allow_lossy = false;          // accept lossy transfer syntaxes / LossyImageCompression=01
  bool allow_raw_dataset = true;     // accept a dataset without the Part 10 header
};

/// The decision for one file. `reason_code` is a stable machine word (see verify.cpp's table,
/// e.g. "not_dicom", "truncated", "missing_attribute", "invalid_uid", "lossy_transfer_syntax",
/// "pixel_data_length", "dicomdir", "unknown_transfer_syntax"); `reason` is a sentence for a
/// hospital engineer that names the attribute or offset at fault.
struct Verdict {
  bool accepted = false;
  std::string reason_code;
  std::string reason;
  DicomFacts facts;              // whatever could be read, even when rejected
};

/// Reads the header (never the pixel data) and applies the rules. Never throws; any parse
/// failure is a rejected Verdict.
Verdict verify_file(const std::string& path, const VerifyPolicy& policy);

/// Just the facts, for the hub's index; an error when the file cannot be parsed as DICOM.
Result<DicomFacts> inspect_file(const std::string& path);

/// True when `uid` is a well-formed DICOM UID: 1..64 chars, digits and dots, no empty
/// component, no leading zero in a multi-digit component.
bool is_valid_uid(const std::string& uid);

}  // namespace lightbox::dicom
