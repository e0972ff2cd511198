#include "agent/queue/self_check.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "common/clock/clock.hpp"
#include "common/fsio/atomic_file.hpp"
#include "common/sqlite/db.hpp"

namespace lightbox::agent::queue {
namespace {

bool looks_damaged(const std::string& msg) {
  for (const char* w : {"malformed", "not a database", "damaged", "corrupt", "disk image"})
    if (msg.find(w) != std::string::npos) return true;
  return false;
}

std::int64_t count_rows(sqlite::Db& db, const char* table) {
  auto st = db.prepare(std::string("SELECT COUNT(*) FROM ") + table);
  if (!st) return -1;
  auto r = st->step();
  if (!r || !*r) return -1;
  return st->int64(0);
}

}  // namespace

std::int64_t SelfCheckReport::may_need_recollection() const {
  if (!damaged) return 0;
  if (lost_seen >= 0) return lost_seen;
  return lost_items;  // -1 when nothing could be read: unknown
}

SelfCheckReport self_check(const std::string& db_path, std::int64_t now_ms) {
  SelfCheckReport rep;
  rep.at_ms = now_ms;
  std::error_code ec;
  if (!std::filesystem::exists(db_path, ec)) return rep;
  {
    auto db = sqlite::Db::open(db_path);
    if (!db) {
      if (!looks_damaged(db.error().message)) return rep;  // not ours to judge (permissions, ...)
      rep.damaged = true;
      rep.problem = db.error().message;
    } else if (auto s = db->quick_check(); !s) {
      if (!looks_damaged(s.error().message) && s.error().code != Errc::db_error) return rep;
      rep.damaged = true;
      rep.problem = s.error().message;
      // Best effort: what was in it. Either count may fail on a damaged page.
      rep.lost_items = count_rows(*db, "items");
      rep.lost_seen = count_rows(*db, "seen");
    }
  }
  if (!rep.damaged) return rep;
  const std::string aside = db_path + ".damaged-" + clock::compact_utc(now_ms);
  if (::rename(db_path.c_str(), aside.c_str()) != 0) {
    rep.problem += "; cannot set it aside: " + std::string(std::strerror(errno));
    return rep;
  }
  for (const char* ext : {"-wal", "-shm"}) {
    const std::string from = db_path + ext;
    if (std::filesystem::exists(from, ec)) ::rename(from.c_str(), (aside + ext).c_str());
  }
  auto parent = std::filesystem::path(db_path).parent_path().string();
  (void)fsio::fsync_dir(parent.empty() ? "." : parent);
  rep.moved_to = aside;
  return rep;
}

}  // namespace lightbox::agent::queue
