#pragma once
// Stage 2: decide what a collected file is (DICOM or an allowed attachment) and whether it may
// be sent. Works on the spool copy, so the bytes judged are the bytes uploaded.
#include <string>
#include <string_view>
#include <vector>

#include "common/dicom/verify.hpp"
#include "common/wire/protocol.hpp"

namespace lightbox::agent::verify {

/// Typed `verify` section of the agent config.
struct Policy {
  dicom::VerifyPolicy dicom;
  std::vector<std::string> attachments{"pdf", "jpg", "jpeg"};  // lowercase extensions
};

/// Attachment types recognised by their first bytes.
enum class Magic { none, pdf, jpeg };

/// Reads the first bytes of a file: "%PDF" -> pdf, FF D8 FF -> jpeg.
Magic sniff(const std::string& path);

/// The decision for one file; a rejected file is quarantined with reason_code/reason.
struct Verdict {
  bool accepted = false;
  wire::ObjectKind kind = wire::ObjectKind::dicom;
  bool records = false;  // a records batch (queue item kind "records"), not an object
  std::string reason_code;
  std::string reason;
};

/// Schema check of a records batch file: {"records":[...]} with at least one record, each with
/// a known kind, non-empty key and version strings and a fields object. Sets `records`.
Verdict check_records(const std::string& path);

/// True when the file's first non-blank byte is '{' (how a spool orphan is told to be a batch).
bool looks_like_json(const std::string& path);

/// Applies the policy. Stateless apart from the policy, so one instance serves every thread.
class Verifier {
 public:
  explicit Verifier(Policy policy) : policy_(std::move(policy)) {}
  /// `path` is the file to read, `original_name` the name it had at the source (for the extension).
  /// `kind_hint` "records" (a view's batch) selects the records schema check instead.
  Verdict check(const std::string& path, const std::string& original_name, std::string_view kind_hint = {}) const;

 private:
  bool allowed(const std::string& ext) const;
  Policy policy_;
};

}  // namespace lightbox::agent::verify
