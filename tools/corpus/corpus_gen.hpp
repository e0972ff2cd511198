#pragma once
// The sample/test corpus generator behind `lightbox-corpus`: deterministic synthetic DICOM
// studies, two attachments, one corrupt file, and (optionally) the odd-variety corpus whose
// expected verdicts the unit tests assert. DCMTK stays inside tools/corpus.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/error/result.hpp"

namespace lightbox::tools::corpus {

/// What to generate; the CLI maps its flags onto this.
struct Options {
  std::string out_dir;
  int ct_slices = 300;
  int rows = 512;
  int cols = 512;
  bool odd = false;          // also write OUTDIR/odd/ with manifest.json
  std::uint64_t seed = 1;    // same seed, same bytes
};

/// One generated file and the verdict dicom::verify_file (default policy) must reach on it.
struct Expectation {
  std::string file;          // path relative to the folder the list describes
  bool accepted = true;
  std::string reason_code;   // empty when accepted
};

/// What generate() wrote.
struct Summary {
  std::string out_dir;
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
  std::uint64_t dicom_files = 0;
  std::uint64_t attachments = 0;
  std::map<std::string, std::uint64_t> by_modality;
  std::vector<std::string> studies;       // study folders, relative to out_dir
  std::vector<Expectation> rejected;      // relative to out_dir, excluding odd/
  std::vector<Expectation> odd;           // relative to out_dir/odd (empty without --odd)
  double seconds = 0;
};

/// Writes the main corpus (and odd/ when asked) under options.out_dir.
Result<Summary> generate(const Options& options);

/// Writes the odd-variety corpus into `dir` (created if needed) plus dir/manifest.json.
Result<std::vector<Expectation>> generate_odd(const std::string& dir, std::uint64_t seed);

/// The JSON summary printed by the CLI.
std::string summary_json(const Summary& summary);

}  // namespace lightbox::tools::corpus
