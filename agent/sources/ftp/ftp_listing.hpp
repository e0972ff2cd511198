#pragma once
// Reading what an FTP server says about its files: MLSD fact lines (RFC 3659), Unix-style and
// DOS-style LIST lines, and MDTM replies. Pure functions, so they are tested without a server.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lightbox::agent::sources::ftp {

/// One directory entry as the server listed it.
struct RemoteEntry {
  std::string name;           // file name only, no directory
  bool is_dir = false;
  bool is_file = false;       // regular file (links and specials are neither)
  std::uint64_t size = 0;
  std::int64_t mtime_s = 0;   // seconds since the epoch, UTC; 0 = unknown
  bool mtime_exact = false;   // to the second (MLSD); LIST times are to the minute or the day
};

/// Parses one MLSD line ("type=file;size=12;modify=20261128013000; a.dcm"); nullopt for
/// lines that are not entries and for "." / "..".
std::optional<RemoteEntry> parse_mlsd_line(std::string_view line);
/// Parses one LIST line: Unix ("-rw-r--r-- 1 u g 12 Nov 28 01:30 a.dcm", the year inferred
/// from `now_s` for recent files) or DOS/IIS ("11-28-26  01:30AM  12 a.dcm"). nullopt for
/// "total N" and anything unreadable.
std::optional<RemoteEntry> parse_list_line(std::string_view line, std::int64_t now_s);
/// Every entry of a listing (lines end in CRLF or LF).
std::vector<RemoteEntry> parse_listing(std::string_view text, bool mlsd, std::int64_t now_s);
/// "YYYYMMDDHHMMSS[.sss]" (MDTM reply text after "213 ", or an MLSD modify fact) to epoch s.
std::optional<std::int64_t> parse_ftp_time(std::string_view text);
/// True when a FEAT reply lists MLSD (or MLST, which implies it).
bool features_have_mlsd(const std::vector<std::string>& feat_lines);

}  // namespace lightbox::agent::sources::ftp
