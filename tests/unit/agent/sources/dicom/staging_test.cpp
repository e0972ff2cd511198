#include "agent/sources/dicom/staging.hpp"

#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

#include "tests/unit/agent/temp_dir.hpp"

using namespace lightbox;
using namespace lightbox::agent::sources::dicom;
namespace fs = std::filesystem;

TEST_CASE("staging: commit renames into <study>/<sop>.dcm and tracks quiet time") {
  test::TempDir dir;
  std::int64_t now = 1000;
  Staging st(dir / "staging", [&] { return now; });
  REQUIRE(st.prepare().ok());
  auto temp = st.temp_path();
  { std::ofstream(temp) << "bytes"; }
  auto rel = st.commit(temp, "1.2.3", "1.2.3.4");
  REQUIRE(rel.ok());
  CHECK(*rel == "1.2.3/1.2.3.4");
  CHECK_FALSE(fs::exists(temp));
  auto l = st.list();
  REQUIRE(l.count("1.2.3") == 1);
  REQUIRE(l["1.2.3"].size() == 1);
  CHECK(l["1.2.3"][0].sop_uid == "1.2.3.4");
  CHECK(l["1.2.3"][0].size == 5);
  now = 5000;
  CHECK(st.last_activity_ms("1.2.3") == 1000);
  CHECK(st.last_activity_ms("9.9") == 5000);  // staged by an earlier run: the clock starts now

  st.remove("1.2.3", "1.2.3.4");
  CHECK(st.list().empty());
  CHECK_FALSE(fs::exists(dir / "staging/1.2.3"));
}

TEST_CASE("staging: UIDs that are not UIDs never become paths") {
  test::TempDir dir;
  Staging st(dir / "s", [] { return std::int64_t{7}; });
  REQUIRE(st.prepare().ok());
  auto temp = st.temp_path();
  { std::ofstream(temp) << "x"; }
  auto rel = st.commit(temp, "../../etc", "../passwd");
  REQUIRE(rel.ok());
  CHECK(rel->rfind(std::string(kUnknownStudy) + "/unnamed-", 0) == 0);
  CHECK(fs::exists(dir / "s/" + *rel + ".dcm"));
}

TEST_CASE("staging: prepare sweeps temporaries a crash left behind") {
  test::TempDir dir;
  Staging st(dir / "s", [] { return std::int64_t{7}; });
  REQUIRE(st.prepare().ok());
  auto temp = st.temp_path();
  { std::ofstream(temp) << "partial"; }
  REQUIRE(st.prepare().ok());
  CHECK_FALSE(fs::exists(temp));
  CHECK(st.list().empty());
}
