#pragma once
// Private to tools/corpus: shared state of the odd-variety corpus (one patient, one study,
// a series per file) and the two halves that fill it.
#include <string>
#include <vector>

#include <dcmtk/dcmdata/dcdatset.h>

#include "tools/corpus/builder.hpp"
#include "tools/corpus/corpus_gen.hpp"

namespace lightbox::tools::corpus {

/// Collects odd files and their expected verdicts under one folder.
class OddWriter {
 public:
  OddWriter(std::string dir, std::uint64_t seed) : dir_(std::move(dir)), uids_(seed) {}

  /// Identity for the next file: same patient and study, a fresh series.
  Identity next_identity(const char* modality);
  /// A fresh SOP Instance UID.
  std::string next_sop();
  /// Full path of `name` in the odd folder.
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  /// Records what the verifier must decide about `name`.
  void expect(const std::string& name, bool accepted, const std::string& reason_code = {});
  const UidSource& uids() const { return uids_; }
  const std::vector<Expectation>& expectations() const { return out_; }

 private:
  std::string dir_;
  UidSource uids_;
  std::vector<Expectation> out_;
  std::uint64_t series_ = 0;
  std::uint64_t instances_ = 0;
};

/// A small 16-bit (or 8-bit) MONOCHROME2 image with pixel data, ready to save.
void odd_image(DcmDataset& ds, OddWriter& w, int bits, int frames = 1);

/// Transfer syntax variants, codecs, and damaged images.
Status write_odd_images(OddWriter& w);
/// Non-image objects, DICOMDIR, raw dataset, hand-crafted bytes, non-DICOM files.
Status write_odd_objects(OddWriter& w);

}  // namespace lightbox::tools::corpus
