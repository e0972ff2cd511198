#pragma once
// Shared by this folder's DCMTK files only (not part of the source's interface).
#include <string>
#include <vector>

namespace lightbox::agent::sources::dicom::detail {

/// Study Instance UID of a received file ("" when it has none or cannot be parsed).
std::string read_study_uid(const std::string& path);
/// Transfer syntaxes we accept or propose for storage, lossless ones first.
const std::vector<std::string>& storage_transfer_syntaxes();
/// Transfer syntaxes for a Q/R or verification context.
const std::vector<std::string>& uncompressed_transfer_syntaxes();

}  // namespace lightbox::agent::sources::dicom::detail
