#include "hub/dashboard/stats.hpp"

#include "hub/index/sqlite_schema.hpp"

namespace lightbox::hub::dashboard {

namespace {

constexpr std::string_view kStatsIndexes = R"(
CREATE INDEX IF NOT EXISTS object_senders_by_first_at ON object_senders(first_at);
CREATE INDEX IF NOT EXISTS object_senders_by_agent ON object_senders(agent, first_at);
)";

}  // namespace

Result<std::unique_ptr<StatsRepository>> StatsRepository::open(const std::string& path) {
  auto db = sqlite::Db::open(path);
  if (!db) return std::move(db).error();
  if (auto s = db->exec(index::kSchemaSql); !s) return std::move(s).error();
  if (auto s = db->exec(kStatsIndexes); !s) return std::move(s).error();
  return std::unique_ptr<StatsRepository>(new StatsRepository(std::move(*db)));
}

Result<std::vector<DailyUploads>> StatsRepository::uploads_per_day(const std::string& since_day) {
  std::lock_guard lock(mu_);
  // first_at is ISO-8601 UTC, so its first 10 characters are the UTC day and text order is time
  // order. An object sent by two agents of one institution counts once, on its first day.
  auto st = db_.prepare(
      "SELECT f.institution, substr(f.first_at,1,10) AS day, count(*), coalesce(sum(o.size),0) "
      "FROM (SELECT institution, sha256, min(first_at) AS first_at FROM object_senders "
      "      WHERE first_at >= ?1 GROUP BY institution, sha256) f "
      "JOIN objects o ON o.sha256 = f.sha256 "
      "GROUP BY f.institution, day ORDER BY day, f.institution");
  if (!st) return std::move(st).error();
  st->bind(1, since_day);
  std::vector<DailyUploads> out;
  for (;;) {
    auto row = st->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(DailyUploads{st->text(0), st->text(1), st->int64(2), st->int64(3)});
  }
  return out;
}

Result<std::vector<AgentUploads>> StatsRepository::agent_uploads() {
  std::lock_guard lock(mu_);
  auto st = db_.prepare(
      "SELECT agent, institution, max(first_at), count(*) FROM object_senders GROUP BY agent, institution "
      "ORDER BY agent");
  if (!st) return std::move(st).error();
  std::vector<AgentUploads> out;
  for (;;) {
    auto row = st->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(AgentUploads{st->text(0), st->text(1), st->text(2), st->int64(3)});
  }
  return out;
}

}  // namespace lightbox::hub::dashboard
