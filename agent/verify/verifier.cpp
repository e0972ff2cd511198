#include "agent/verify/verifier.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/wire/records.hpp"

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

Verdict check_records(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return reject("io_error", "cannot read the records batch: " + ec.message());
  if (size > wire::kMaxRecordsBatchBytes)
    return reject("records_invalid", "records batch is " + std::to_string(size) + " bytes, over the hub's limit of " +
                                         std::to_string(wire::kMaxRecordsBatchBytes));
  std::ifstream in(path, std::ios::binary);
  auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return reject("records_invalid", "records batch is not a JSON object");
  auto it = j.find("records");
  if (it == j.end() || !it->is_array()) return reject("records_invalid", "records batch has no \"records\" array");
  if (it->empty()) return reject("records_invalid", "records batch is empty");
  std::size_t i = 0;
  for (const auto& r : *it) {
    auto rec = wire::Record::from_json(r);
    std::string where = "records[" + std::to_string(i) + "]";
    if (!rec) return reject("records_invalid", where + ": " + rec.error().message);
    if (!wire::is_record_kind(rec->kind)) return reject("records_invalid", where + ": unknown kind '" + rec->kind + "'");
    ++i;
  }
  Verdict v;
  v.accepted = true;
  v.records = true;
  return v;
}

bool looks_like_json(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  int c;
  while ((c = std::fgetc(f)) != EOF && (c == ' ' || c == '\n' || c == '\r' || c == '\t')) {
  }
  std::fclose(f);
  return c == '{';
}

Verdict Verifier::check(const std::string& path, const std::string& original_name, std::string_view kind_hint) const {
  if (kind_hint == "records") {
    Verdict v = check_records(path);
    v.records = true;
    return v;
  }
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
