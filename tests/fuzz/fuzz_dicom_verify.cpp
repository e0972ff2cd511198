// libFuzzer harness: dicom::verify_file and inspect_file on arbitrary bytes written to a temp
// file (both policies). Any crash, hang or sanitizer report is a bug: the agent and the hub run
// this on every file they receive.
#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

#include "common/dicom/verify.hpp"

namespace {

std::string temp_path() {
  static const std::string path = "/tmp/lb-fuzz-dicom-" + std::to_string(::getpid()) + ".dcm";
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = temp_path();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  if (size > 0) std::fwrite(data, 1, size, f);
  std::fclose(f);
  lightbox::dicom::VerifyPolicy strict;
  strict.allow_lossy = false;
  strict.allow_raw_dataset = false;
  lightbox::dicom::VerifyPolicy lenient;
  lenient.allow_lossy = true;
  lenient.allow_raw_dataset = true;
  (void)lightbox::dicom::verify_file(path, strict);
  (void)lightbox::dicom::verify_file(path, lenient);
  (void)lightbox::dicom::inspect_file(path);
  return 0;
}
