#include "agent/verify/verifier.hpp"

#include <doctest/doctest.h>

#include "tests/unit/agent/temp_dir.hpp"

using namespace lightbox;
using namespace lightbox::agent::verify;

TEST_CASE("attachments are typed by their first bytes, not their names") {
  test::TempDir dir;
  test::write_text(dir / "a.pdf", "%PDF-1.7 ...");
  test::write_text(dir / "scan.bin", "\xFF\xD8\xFF\xE0 jpeg");
  test::write_text(dir / "fake.pdf", "hello");
  test::write_text(dir / "notes.txt", "just text");
  CHECK(sniff(dir / "a.pdf") == Magic::pdf);
  CHECK(sniff(dir / "scan.bin") == Magic::jpeg);
  CHECK(sniff(dir / "notes.txt") == Magic::none);

  Verifier all(Policy{});
  auto pdf = all.check(dir / "a.pdf", "a.pdf");
  CHECK(pdf.accepted);
  CHECK(pdf.kind == wire::ObjectKind::attachment);
  CHECK(all.check(dir / "scan.bin", "scan.bin").accepted);

  auto fake = all.check(dir / "fake.pdf", "fake.pdf");
  CHECK_FALSE(fake.accepted);
  CHECK(fake.reason_code == "attachment_mismatch");

  auto text = all.check(dir / "notes.txt", "notes.txt");
  CHECK_FALSE(text.accepted);
  CHECK(text.reason_code == "not_dicom");
  CHECK(text.reason.find("neither DICOM nor an allowed attachment") != std::string::npos);

  Policy pdf_only;
  pdf_only.attachments = {"pdf"};
  auto jpeg = Verifier(pdf_only).check(dir / "scan.bin", "scan.bin");
  CHECK_FALSE(jpeg.accepted);
  CHECK(jpeg.reason_code == "attachment_not_allowed");
}
