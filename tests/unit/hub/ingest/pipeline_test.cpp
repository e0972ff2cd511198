#include "hub/ingest/pipeline.hpp"

#include <doctest/doctest.h>

#include <filesystem>

#include "common/fsio/atomic_file.hpp"
#include "tests/unit/hub/test_support.hpp"

using namespace lightbox;
using namespace lightbox::hub;

namespace {

struct Fixture {
  test::ScratchDir dir;
  log::Logger log{log::Level::off};
  store::MemoryObjectStore store{dir / "staging"};
  std::unique_ptr<index::SqliteRepository> repo = index::SqliteRepository::open(dir / "index.db").value();
  ingest::Pipeline pipeline{store, *repo, log, 1 << 20};

  ingest::PutRequest request(const std::string& sha, wire::ObjectKind kind) {
    ingest::PutRequest r;
    r.sha256 = sha;
    r.kind = kind;
    r.institution = "h1";
    r.agent = "a1";
    r.source = "ct";
    r.filename = "x.dcm";
    return r;
  }
  std::size_t staged_files() const {
    std::size_t n = 0;
    for (auto& e : std::filesystem::directory_iterator(store.staging_dir())) (void)e, ++n;
    return n;
  }
};

}  // namespace

TEST_CASE("ingest: DICOM object stored, indexed, then AlreadyStored") {
  Fixture fx;
  test::TinyDicom td;
  REQUIRE(test::write_tiny_dicom(fx.dir / "tiny.dcm", td));
  std::string bytes = *fsio::read_file(fx.dir / "tiny.dcm");
  std::string sha = hash::sha256_hex(bytes);

  // Streamed in small chunks, as the server does.
  auto up = fx.pipeline.begin(fx.request(sha, wire::ObjectKind::dicom));
  REQUIRE(up.ok());
  for (std::size_t off = 0; off < bytes.size(); off += 100)
    REQUIRE((*up)->write(bytes.data() + off, std::min<std::size_t>(100, bytes.size() - off)).ok());
  auto receipt = (*up)->finish();
  REQUIRE_MESSAGE(receipt.ok(), receipt.error().to_string());
  CHECK(receipt->outcome == wire::StoreOutcome::Stored);
  CHECK(receipt->size == bytes.size());
  CHECK(receipt->study_uid == td.study_uid);
  CHECK(receipt->series_uid == td.series_uid);
  CHECK(receipt->sop_instance_uid == td.sop_instance_uid);
  CHECK_FALSE(receipt->stored_at.empty());
  CHECK(fx.store.count() == 1);

  auto again = fx.pipeline.put(fx.request(sha, wire::ObjectKind::dicom), bytes);
  REQUIRE(again.ok());
  CHECK(again->outcome == wire::StoreOutcome::AlreadyStored);
  CHECK(again->stored_at == receipt->stored_at);

  auto obj = fx.repo->find_object(sha, "h1");
  REQUIRE(obj.ok());
  CHECK(obj->content_type == "application/dicom");
  auto studies = fx.repo->list_studies("h1", {});
  REQUIRE(studies->size() == 1);
  CHECK((*studies)[0].instance_count == 1);
  CHECK((*studies)[0].patient_id == td.patient_id);
  CHECK(fx.staged_files() == 0);
}

TEST_CASE("ingest: a crash after the store but before the index is repaired by the retry") {
  Fixture fx;
  std::string bytes = "attachment bytes";
  std::string sha = hash::sha256_hex(bytes);
  // The bytes reached the store, but the index never committed.
  auto f = fsio::AtomicFile::create_in(fx.store.staging_dir());
  REQUIRE(f->write(bytes).ok());
  REQUIRE(fx.store.put(sha, std::move(*f)).ok());
  CHECK(fx.repo->find_object(sha, "h1").error().code == Errc::not_found);

  auto r = fx.pipeline.put(fx.request(sha, wire::ObjectKind::attachment), bytes);
  REQUIRE(r.ok());
  CHECK(r->outcome == wire::StoreOutcome::Stored);  // decided by the index, not the file
  CHECK(fx.repo->find_object(sha, "h1")->content_type == "application/octet-stream");
}

TEST_CASE("ingest: refusals leave nothing behind") {
  Fixture fx;
  std::string bytes = "definitely not DICOM";
  std::string sha = hash::sha256_hex(bytes);

  auto mismatch = fx.pipeline.put(fx.request(hash::sha256_hex("other"), wire::ObjectKind::attachment), bytes);
  CHECK(mismatch.error().code == Errc::hash_mismatch);

  auto rejected = fx.pipeline.put(fx.request(sha, wire::ObjectKind::dicom), bytes);
  REQUIRE_FALSE(rejected.ok());
  CHECK(rejected.error().code == Errc::rejected);
  CHECK(http_status(rejected.error().code) == 422);

  std::string big(2 << 20, 'x');
  auto too_big = fx.pipeline.put(fx.request(hash::sha256_hex(big), wire::ObjectKind::attachment), big);
  CHECK(too_big.error().code == Errc::payload_too_large);

  CHECK(fx.pipeline.begin(fx.request("ABC", wire::ObjectKind::dicom)).error().field == "sha256");
  CHECK(fx.store.count() == 0);
  CHECK(fx.staged_files() == 0);
  CHECK(fx.repo->find_object(sha, "h1").error().code == Errc::not_found);
}
