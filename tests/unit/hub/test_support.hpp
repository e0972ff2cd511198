#pragma once
// Helpers shared by the hub's unit tests: a scratch directory and a tiny DICOM file.
#include <cstdlib>
#include <filesystem>
#include <string>

namespace lightbox::hub::test {

/// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lbhub-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// UIDs of a tiny DICOM instance written by write_tiny_dicom.
struct TinyDicom {
  std::string study_uid = "1.2.826.0.1.3680043.10.1.1";
  std::string series_uid = "1.2.826.0.1.3680043.10.1.1.1";
  std::string sop_instance_uid = "1.2.826.0.1.3680043.10.1.1.1.1";
  std::string patient_id = "P001";
  std::string modality = "OT";
};

/// Writes a valid 8x8 Secondary Capture Part-10 file; returns false on failure.
bool write_tiny_dicom(const std::string& path, const TinyDicom& d);

}  // namespace lightbox::hub::test
