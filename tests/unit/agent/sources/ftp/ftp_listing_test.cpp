#include "agent/sources/ftp/ftp_listing.hpp"

#include <doctest/doctest.h>

using namespace lightbox::agent::sources::ftp;

namespace {
// 2026-11-28T01:30:00Z
constexpr std::int64_t kNow = 1795829400;
}  // namespace

TEST_CASE("MLSD lines give type, size and an exact UTC time") {
  auto e = parse_mlsd_line("type=file;size=1234;modify=20261128013000;perm=r; img 1.dcm");
  REQUIRE(e);
  CHECK(e->is_file);
  CHECK_FALSE(e->is_dir);
  CHECK(e->name == "img 1.dcm");
  CHECK(e->size == 1234);
  CHECK(e->mtime_s == kNow);
  CHECK(e->mtime_exact);

  auto d = parse_mlsd_line("Type=dir;Modify=20261128013000.123; series 1");
  REQUIRE(d);
  CHECK(d->is_dir);
  CHECK(d->mtime_s == kNow);  // fractions dropped: one-second resolution

  CHECK_FALSE(parse_mlsd_line("type=cdir;modify=20261128013000; ."));
  CHECK_FALSE(parse_mlsd_line("type=pdir; .."));
  CHECK_FALSE(parse_mlsd_line("size=12; no-type"));
  CHECK_FALSE(parse_mlsd_line("garbage"));
  auto link = parse_mlsd_line("type=OS.unix=slink:/x;size=3; l");
  REQUIRE(link);
  CHECK_FALSE(link->is_file);
  CHECK_FALSE(link->is_dir);
}

TEST_CASE("Unix LIST lines (vsftpd) infer the year of recent files") {
  auto e = parse_list_line("-rw-r--r--    1 1001     1001       525510 Nov 28 01:30 img 0.dcm", kNow);
  REQUIRE(e);
  CHECK(e->is_file);
  CHECK(e->name == "img 0.dcm");
  CHECK(e->size == 525510);
  CHECK(e->mtime_s == kNow);
  CHECK_FALSE(e->mtime_exact);

  // "Dec 31 23:59" seen on Nov 28 2026 is from 2025 (never more than a day in the future).
  auto last_year = parse_list_line("-rw-r--r-- 1 u g 5 Dec 31 23:59 old.dcm", kNow);
  REQUIRE(last_year);
  CHECK(last_year->mtime_s == 1767225540);  // 2025-12-31T23:59:00Z

  auto with_year = parse_list_line("-rw-r--r-- 1 u g 5 Mar  3  2019 older.dcm", kNow);
  REQUIRE(with_year);
  CHECK(with_year->mtime_s == 1551571200);  // 2019-03-03T00:00:00Z

  auto dir = parse_list_line("drwxr-xr-x    2 1001     1001         4096 Nov 28 01:29 series 1\r", kNow);
  REQUIRE(dir);
  CHECK(dir->is_dir);
  CHECK(dir->name == "series 1");

  auto link = parse_list_line("lrwxrwxrwx 1 u g 7 Nov 28 01:30 latest -> img.dcm", kNow);
  REQUIRE(link);
  CHECK_FALSE(link->is_file);
  CHECK(link->name == "latest");

  auto no_group = parse_list_line("-rw-r--r-- 1 owner 77 Nov 28 01:30 a.dcm", kNow);
  REQUIRE(no_group);
  CHECK(no_group->size == 77);
  CHECK(no_group->name == "a.dcm");

  CHECK_FALSE(parse_list_line("total 12", kNow));
  CHECK_FALSE(parse_list_line("", kNow));
  CHECK_FALSE(parse_list_line("drwxr-xr-x 2 u g 4096 Nov 28 01:30 .", kNow));
  CHECK_FALSE(parse_list_line("this is not a listing line at all", kNow));
}

TEST_CASE("DOS/IIS LIST lines") {
  auto f = parse_list_line("11-28-26  01:30AM               525510 img 0.dcm", kNow);
  REQUIRE(f);
  CHECK(f->is_file);
  CHECK(f->size == 525510);
  CHECK(f->name == "img 0.dcm");
  CHECK(f->mtime_s == kNow);
  auto pm = parse_list_line("11-28-2026  01:30PM  12 b.dcm", kNow);
  REQUIRE(pm);
  CHECK(pm->mtime_s == kNow + 12 * 3600);
  auto d = parse_list_line("11-28-26  01:30AM       <DIR>          ct", kNow);
  REQUIRE(d);
  CHECK(d->is_dir);
  CHECK(d->name == "ct");
}

TEST_CASE("a whole listing, CRLF or LF") {
  auto all = parse_listing("total 8\r\n-rw-r--r-- 1 u g 1 Nov 28 01:30 a\r\ndrwxr-xr-x 2 u g 4096 Nov 28 01:30 d\r\n", false, kNow);
  REQUIRE(all.size() == 2);
  CHECK(all[0].name == "a");
  CHECK(all[1].is_dir);
  auto ml = parse_listing("type=cdir; .\ntype=file;size=2;modify=20261128013000; b\n", true, kNow);
  REQUIRE(ml.size() == 1);
  CHECK(ml[0].name == "b");
}

TEST_CASE("MDTM replies and FEAT") {
  CHECK(parse_ftp_time("20261128013000") == kNow);
  CHECK(parse_ftp_time("20261128013000.999") == kNow);
  CHECK_FALSE(parse_ftp_time("2026112801300"));
  CHECK_FALSE(parse_ftp_time("20261328013000"));
  CHECK_FALSE(parse_ftp_time("20261128013000x"));
  CHECK(features_have_mlsd({"211-Features:", " EPSV", " MLST type*;size*;modify*;", "211 End"}));
  CHECK_FALSE(features_have_mlsd({"211-Features:", " EPRT", " EPSV", " MDTM", " PASV", " SIZE", " UTF8", "211 End"}));
}
