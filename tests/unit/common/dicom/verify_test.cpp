#include "common/dicom/verify.hpp"

#include <unistd.h>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tools/corpus/corpus_gen.hpp"

namespace fs = std::filesystem;
using lightbox::dicom::inspect_file;
using lightbox::dicom::is_valid_uid;
using lightbox::dicom::verify_file;
using lightbox::dicom::VerifyPolicy;
namespace corpus = lightbox::tools::corpus;

namespace {

/// A temporary folder removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("lightbox_dicom_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

std::string read_all(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_all(const std::string& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

corpus::Options small_corpus(const std::string& dir, std::uint64_t seed = 7) {
  corpus::Options o;
  o.out_dir = dir;
  o.ct_slices = 3;
  o.rows = 32;
  o.cols = 32;
  o.seed = seed;
  return o;
}

const char* kCtDir = "study1_ct_chest/series1_ct_axial/";

}  // namespace

TEST_CASE("is_valid_uid") {
  CHECK(is_valid_uid("1.2.840.10008.1.2.1"));
  CHECK(is_valid_uid("0"));
  CHECK(is_valid_uid("2.25.0.1"));
  CHECK(is_valid_uid(std::string(64, '1')));
  CHECK_FALSE(is_valid_uid(""));
  CHECK_FALSE(is_valid_uid(std::string(65, '1')));
  CHECK_FALSE(is_valid_uid("1.2.840.0123"));
  CHECK_FALSE(is_valid_uid("1..2"));
  CHECK_FALSE(is_valid_uid(".1.2"));
  CHECK_FALSE(is_valid_uid("1.2."));
  CHECK_FALSE(is_valid_uid("1.2.abc"));
  CHECK_FALSE(is_valid_uid("1.2.3 "));
  CHECK_FALSE(is_valid_uid("1.2-3"));
}

TEST_CASE("every odd file gets the verdict its manifest expects") {
  TempDir tmp;
  auto odd = corpus::generate_odd(tmp.path.string(), 11);
  REQUIRE_MESSAGE(odd.ok(), (odd.ok() ? "" : odd.error().message));
  REQUIRE(odd->size() >= 25);

  const nlohmann::json manifest = nlohmann::json::parse(read_all(tmp.file("manifest.json")));
  CHECK(manifest.size() == odd->size());

  for (const corpus::Expectation& e : *odd) {
    const auto v = verify_file(tmp.file(e.file), VerifyPolicy{});
    INFO(e.file, ": ", v.reason_code, " ", v.reason);
    CHECK(v.accepted == e.accepted);
    CHECK(v.reason_code == e.reason_code);
    if (!e.accepted) CHECK_FALSE(v.reason.empty());
    REQUIRE(manifest.contains(e.file));
    CHECK(manifest[e.file]["expect"] == (e.accepted ? "accepted" : "rejected"));
  }
}

TEST_CASE("policy switches lossy and raw datasets") {
  TempDir tmp;
  REQUIRE(corpus::generate_odd(tmp.path.string(), 11).ok());
  VerifyPolicy lenient;
  lenient.allow_lossy = true;
  for (const char* f : {"jpeg_baseline_lossy.dcm", "lossy_flag_native.dcm", "jpeg2000_maybe_lossy_crafted.dcm"}) {
    const auto v = verify_file(tmp.file(f), lenient);
    INFO(f, ": ", v.reason);
    CHECK(v.accepted);
  }
  const auto lossy = verify_file(tmp.file("jpeg_baseline_lossy.dcm"), VerifyPolicy{});
  CHECK(lossy.facts.ts_lossy);
  CHECK(lossy.facts.ts_encapsulated);
  CHECK(lossy.facts.transfer_syntax_uid == "1.2.840.10008.1.2.4.50");

  VerifyPolicy strict;
  strict.allow_raw_dataset = false;
  const auto raw = verify_file(tmp.file("raw_dataset_no_part10_implicit.dcm"), strict);
  CHECK_FALSE(raw.accepted);
  CHECK(raw.reason_code == "no_part10_header");
  const auto raw_ok = verify_file(tmp.file("raw_dataset_no_part10_implicit.dcm"), VerifyPolicy{});
  CHECK(raw_ok.accepted);
  CHECK_FALSE(raw_ok.facts.part10);
  CHECK(raw_ok.facts.transfer_syntax_uid == "1.2.840.10008.1.2");

  const auto dir = verify_file(tmp.file("DICOMDIR"), VerifyPolicy{});
  CHECK(dir.facts.is_dicomdir);
}

TEST_CASE("reasons name the attribute and the numbers") {
  TempDir tmp;
  REQUIRE(corpus::generate_odd(tmp.path.string(), 11).ok());
  const auto missing = verify_file(tmp.file("missing_sop_instance_uid.dcm"), VerifyPolicy{});
  CHECK(missing.reason.find("SOPInstanceUID") != std::string::npos);
  CHECK(missing.reason.find("(0008,0018)") != std::string::npos);
  const auto length = verify_file(tmp.file("pixel_length_mismatch.dcm"), VerifyPolicy{});
  CHECK(length.reason.find("4096") != std::string::npos);  // found
  CHECK(length.reason.find("8192") != std::string::npos);  // expected
  const auto cut = verify_file(tmp.file("truncated_pixel_data.dcm"), VerifyPolicy{});
  CHECK(cut.reason.find("(7FE0,0010)") != std::string::npos);
  const auto uid = verify_file(tmp.file("bad_uid_study.dcm"), VerifyPolicy{});
  CHECK(uid.reason.find("StudyInstanceUID") != std::string::npos);
}

TEST_CASE("facts of the main corpus") {
  TempDir tmp;
  auto summary = corpus::generate(small_corpus(tmp.path.string()));
  REQUIRE_MESSAGE(summary.ok(), (summary.ok() ? "" : summary.error().message));
  CHECK(summary->by_modality["CT"] == 4);  // 3 slices + the corrupt one
  CHECK(summary->attachments == 2);
  REQUIRE(summary->rejected.size() == 1);
  CHECK(summary->rejected[0].reason_code == "truncated");

  const auto ct1 = verify_file(tmp.file(std::string(kCtDir) + "ct_0001.dcm"), VerifyPolicy{});
  const auto ct2 = verify_file(tmp.file(std::string(kCtDir) + "ct_0002.dcm"), VerifyPolicy{});
  REQUIRE_MESSAGE(ct2.accepted, ct2.reason);
  const auto& f = ct2.facts;
  CHECK(f.part10);
  CHECK(f.transfer_syntax_uid == "1.2.840.10008.1.2.1");
  CHECK_FALSE(f.ts_encapsulated);
  CHECK_FALSE(f.ts_lossy);
  CHECK(f.sop_class_uid == "1.2.840.10008.5.1.4.1.1.2");
  CHECK(f.modality == "CT");
  CHECK(f.patient_id == "LB0001");
  CHECK(f.patient_name == "DOE^JOHN");
  CHECK(f.study_date == "20260101");
  CHECK(f.accession_number == "ACC0001");
  CHECK(f.rows == 32);
  CHECK(f.columns == 32);
  CHECK(f.bits_allocated == 16);
  CHECK(f.samples_per_pixel == 1);
  CHECK(f.number_of_frames == 1);
  CHECK(f.has_pixel_data);
  CHECK(f.pixel_data_length == 32 * 32 * 2);
  CHECK(f.instance_number == 2);
  CHECK(f.series_number == 1);
  CHECK(f.study_instance_uid.rfind("2.25.", 0) == 0);
  CHECK(is_valid_uid(f.sop_instance_uid));
  CHECK(f.study_instance_uid == ct1.facts.study_instance_uid);
  CHECK(f.series_instance_uid == ct1.facts.series_instance_uid);
  CHECK(f.sop_instance_uid != ct1.facts.sop_instance_uid);

  const auto mr = verify_file(tmp.file("study2_mr_brain/series1_mr_t1/mr_0001.dcm"), VerifyPolicy{});
  REQUIRE_MESSAGE(mr.accepted, mr.reason);
  CHECK(mr.facts.specific_character_set == "ISO_IR 192");
  CHECK(mr.facts.patient_name == "Wang^XiaoMing=\xE7\x8E\x8B^\xE5\xB0\x8F\xE6\x98\x8E");  // 王^小明
  CHECK(mr.facts.study_instance_uid != f.study_instance_uid);

  const auto us = verify_file(tmp.file("study4_us_abdomen/series1_us/us_0001.dcm"), VerifyPolicy{});
  REQUIRE_MESSAGE(us.accepted, us.reason);
  CHECK(us.facts.number_of_frames == 8);
  CHECK(us.facts.samples_per_pixel == 3);

  const auto bad = verify_file(tmp.file(summary->rejected[0].file), VerifyPolicy{});
  CHECK(bad.reason_code == "truncated");
  CHECK(bad.facts.sop_instance_uid.empty() == false);

  for (const char* attachment : {"attachments/report_LB0001_ACC0001.pdf", "attachments/photo_LB0003_ACC0003.jpg"}) {
    const auto v = verify_file(tmp.file(attachment), VerifyPolicy{});
    CHECK(v.reason_code == "not_dicom");
  }
  const std::string pdf = read_all(tmp.file("attachments/report_LB0001_ACC0001.pdf"));
  CHECK(pdf.rfind("%PDF-1.4", 0) == 0);
  const std::string jpg = read_all(tmp.file("attachments/photo_LB0003_ACC0003.jpg"));
  REQUIRE(jpg.size() > 4);
  CHECK(static_cast<unsigned char>(jpg[0]) == 0xFF);
  CHECK(static_cast<unsigned char>(jpg[1]) == 0xD8);
}

TEST_CASE("GB18030 patient names come out as UTF-8") {
  TempDir tmp;
  REQUIRE(corpus::generate_odd(tmp.path.string(), 11).ok());
  const auto v = verify_file(tmp.file("charset_gb18030_name.dcm"), VerifyPolicy{});
  CHECK(v.facts.specific_character_set == "GB18030");
  CHECK(v.facts.patient_name == "Wang^XiaoMing=\xE7\x8E\x8B^\xE5\xB0\x8F\xE6\x98\x8E");
  const auto odd = verify_file(tmp.file("odd_value_length.dcm"), VerifyPolicy{});
  CHECK(odd.facts.patient_name == "ODD^VAL");
}

TEST_CASE("the generator is deterministic per seed") {
  TempDir a, b, c;
  REQUIRE(corpus::generate(small_corpus(a.path.string(), 5)).ok());
  REQUIRE(corpus::generate(small_corpus(b.path.string(), 5)).ok());
  REQUIRE(corpus::generate(small_corpus(c.path.string(), 6)).ok());
  const std::string rel = std::string(kCtDir) + "ct_0003.dcm";
  CHECK(read_all(a.file(rel)) == read_all(b.file(rel)));
  CHECK(read_all(a.file(rel)) != read_all(c.file(rel)));
}

TEST_CASE("inspect_file returns facts or an error") {
  TempDir tmp;
  REQUIRE(corpus::generate_odd(tmp.path.string(), 11).ok());
  auto good = inspect_file(tmp.file("rle_lossless.dcm"));
  REQUIRE(good.ok());
  CHECK(good->ts_encapsulated);
  CHECK(good->transfer_syntax_uid == "1.2.840.10008.1.2.5");
  CHECK(good->pixel_data_length == 0xFFFFFFFFu);
  CHECK_FALSE(inspect_file(tmp.file("not_dicom_text.dcm")).ok());
  CHECK_FALSE(inspect_file(tmp.file("empty_file.dcm")).ok());
  CHECK_FALSE(inspect_file(tmp.file("no_such_file.dcm")).ok());
  const auto missing = verify_file(tmp.file("no_such_file.dcm"), VerifyPolicy{});
  CHECK(missing.reason_code == "unreadable");
}

TEST_CASE("garbage and every truncation are rejected without crashing") {
  TempDir tmp;
  REQUIRE(corpus::generate_odd(tmp.path.string(), 11).ok());
  // Deterministic noise, with and without a DICM marker.
  std::uint64_t state = 42;
  const auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<char>(state >> 56);
  };
  for (int round = 0; round < 40; ++round) {
    std::string bytes(static_cast<std::size_t>(round * 97 + 1), '\0');
    for (char& ch : bytes) ch = next();
    if (round % 2 == 0 && bytes.size() > 140) bytes.replace(128, 4, "DICM");
    if (round % 4 == 1 && bytes.size() > 8) bytes.replace(0, 4, std::string("\x08\x00\x05\x00", 4));
    const std::string p = tmp.file("noise.dcm");
    write_all(p, bytes);
    const auto v = verify_file(p, VerifyPolicy{});
    CHECK_FALSE(v.accepted);
  }
  // A valid file cut at many points, including inside its header.
  for (const char* source : {"implicit_vr_little_endian.dcm", "private_sequences_undefined_length.dcm",
                             "jpeg_lossless_sv1.dcm", "explicit_vr_big_endian.dcm"}) {
    const std::string whole = read_all(tmp.file(source));
    for (std::size_t keep = 1; keep < whole.size(); keep += 53) {
      const std::string p = tmp.file("cut.dcm");
      write_all(p, whole.substr(0, keep));
      const auto v = verify_file(p, VerifyPolicy{});
      INFO(source, " cut at ", keep, ": ", v.reason_code, " ", v.reason);
      CHECK_FALSE(v.accepted);
    }
  }
}
