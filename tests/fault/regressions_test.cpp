// Replays every input in tests/fixtures/regressions/ (crashes and odd inputs found by the
// libFuzzer harnesses in tests/fuzz/) through the same code paths, in the normal build:
// dicom_verify/* through dicom::verify_file and inspect_file, hub_api/* through Api::handle.
// Passing means: no crash, a verdict with a reason for rejected files, a status in 100..599.
#include "common/dicom/verify.hpp"

#include <doctest/doctest.h>

#include <filesystem>

#include "tests/fuzz/hub_api_input.hpp"

#ifndef LIGHTBOX_REGRESSIONS_DIR
#error "LIGHTBOX_REGRESSIONS_DIR must point at tests/fixtures/regressions"
#endif

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> inputs(const char* sub) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(fs::path(LIGHTBOX_REGRESSIONS_DIR) / sub, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file() && it->path().filename() != "README.md") out.push_back(it->path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("regressions: dicom::verify_file on every saved input") {
  auto files = inputs("dicom_verify");
  MESSAGE(files.size() << " dicom_verify inputs");
  for (const auto& f : files) {
    INFO(f.string());
    for (bool lenient : {false, true}) {
      lightbox::dicom::VerifyPolicy p;
      p.allow_lossy = lenient;
      p.allow_raw_dataset = lenient;
      auto v = lightbox::dicom::verify_file(f.string(), p);
      if (!v.accepted) CHECK_FALSE(v.reason_code.empty());
    }
    (void)lightbox::dicom::inspect_file(f.string());
  }
}

TEST_CASE("regressions: hub Api::handle on every saved request") {
  auto files = inputs("hub_api");
  MESSAGE(files.size() << " hub_api inputs");
  lightbox::fuzz::HubWorld world;
  for (const auto& f : files) {
    INFO(f.string());
    auto text = lightbox::fsio::read_file(f.string());
    REQUIRE(text.ok());
    auto resp = world.handle(*text);
    CHECK(resp.status >= 100);
    CHECK(resp.status <= 599);
  }
}
