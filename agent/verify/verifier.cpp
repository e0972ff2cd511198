#include "agent/verify/verifier.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace lightbox::agent::verify {
namespace {

std::string extension_of(const std::string& name) {
  auto slash = name.rfind('/');
  auto dot = name.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return {};
  std::string ext = name.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

Verdict reject(std::string code, std::string reason) {
  Verdict v;
  v.accepted = false;
  v.reason_code = std::move(code);
  v.reason = std::move(reason);
  return v;
}

}  // namespace

Magic sniff(const std::string& path) {
  unsigned char b[4] = {0, 0, 0, 0};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Magic::none;
  std::size_t n = std::fread(b, 1, sizeof b, f);
  std::fclose(f);
  if (n >= 4 && b[0] == '%' && b[1] == 'P' && b[2] == 'D' && b[3] == 'F') return Magic::pdf;
  if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return Magic::jpeg;
  return Magic::none;
}

bool Verifier::allowed(const std::string& ext) const {
  return std::find(policy_.attachments.begin(), policy_.attachments.end(), ext) != policy_.attachments.end();
}

Verdict Verifier::check(const std::string& path, const std::string& original_name) const {
  const std::string ext = extension_of(original_name);
  const Magic magic = sniff(path);
  if (magic == Magic::pdf || magic == Magic::jpeg) {
    const bool ok = magic == Magic::pdf ? allowed("pdf") : (allowed("jpg") || allowed("jpeg"));
    const char* what = magic == Magic::pdf ? "a PDF document" : "a JPEG image";
    if (!ok)
      return reject("attachment_not_allowed",
                    std::string("file is ") + what + ", which verify.attachments does not allow");
    Verdict v;
    v.accepted = true;
    v.kind = wire::ObjectKind::attachment;
    return v;
  }
  if (ext == "pdf" || ext == "jpg" || ext == "jpeg")
    return reject("attachment_mismatch", "file is named ." + ext + " but its first bytes are not " +
                                             (ext == "pdf" ? "%PDF" : "a JPEG marker (FF D8 FF)"));
  dicom::Verdict d = dicom::verify_file(path, policy_.dicom);
  Verdict v;
  v.accepted = d.accepted;
  v.kind = wire::ObjectKind::dicom;
  v.reason_code = d.reason_code;
  v.reason = d.reason;
  if (!v.accepted && v.reason_code.empty()) v.reason_code = "rejected";
  if (!v.accepted && v.reason_code == "not_dicom")
    v.reason = "neither DICOM nor an allowed attachment (" + v.reason + ")";
  return v;
}

}  // namespace lightbox::agent::verify
