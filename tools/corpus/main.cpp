// lightbox-corpus OUTDIR [--ct-slices N] [--rows 512] [--cols 512] [--odd] [--seed S]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tools/corpus/corpus_gen.hpp"

namespace {

constexpr const char* kUsage =
    "usage: lightbox-corpus OUTDIR [--ct-slices N] [--rows R] [--cols C] [--odd] [--seed S]\n"
    "Writes a deterministic synthetic DICOM corpus and prints a JSON summary.\n";

bool parse_number(const char* text, long long min, long long max, long long& out) {
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || v < min || v > max) return false;
  out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  lightbox::tools::corpus::Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    long long v = 0;
    const auto number = [&](long long min, long long max) {
      if (i + 1 >= argc || !parse_number(argv[i + 1], min, max, v)) {
        std::fprintf(stderr, "%s needs a number in [%lld, %lld]\n%s", arg.c_str(), min, max, kUsage);
        std::exit(2);
      }
      ++i;
      return v;
    };
    if (arg == "--ct-slices") {
      o.ct_slices = static_cast<int>(number(1, 100000));
    } else if (arg == "--rows") {
      o.rows = static_cast<int>(number(8, 4096));
    } else if (arg == "--cols") {
      o.cols = static_cast<int>(number(8, 4096));
    } else if (arg == "--seed") {
      o.seed = static_cast<std::uint64_t>(number(0, 0x7FFFFFFFFFFFFFFFLL));
    } else if (arg == "--odd") {
      o.odd = true;
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (!arg.empty() && arg[0] != '-' && o.out_dir.empty()) {
      o.out_dir = arg;
    } else {
      std::fprintf(stderr, "unknown argument: %s\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (o.out_dir.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  auto summary = lightbox::tools::corpus::generate(o);
  if (!summary) {
    std::fprintf(stderr, "lightbox-corpus: %s\n", summary.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", lightbox::tools::corpus::summary_json(*summary).c_str());
  return 0;
}
