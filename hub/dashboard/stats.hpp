#pragma once
// Upload statistics for the dashboard, read from the index's object_senders table: objects and
// bytes per institution per UTC day (by when that institution first sent each object), and each
// agent's last upload. Opens index.db with its own connection, like the fleet repository.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/error/result.hpp"
#include "common/sqlite/db.hpp"

namespace lightbox::hub::dashboard {

/// Objects one institution sent on one UTC day.
struct DailyUploads {
  std::string institution;
  std::string day;  // "YYYY-MM-DD"
  std::int64_t items = 0;
  std::int64_t bytes = 0;
};

/// An agent's most recent upload.
struct AgentUploads {
  std::string agent;
  std::string institution;
  std::string last_upload_at;  // ISO-8601
  std::int64_t items = 0;      // objects this agent sent, all time
};

/// Read-only statistics over index.db. Thread-safe.
class StatsRepository {
 public:
  /// Opens `path` (index.db), creating the base schema and the indexes the queries use.
  static Result<std::unique_ptr<StatsRepository>> open(const std::string& path);

  /// Per institution per day, for days >= `since_day` ("YYYY-MM-DD"), ordered by day then institution.
  /// An object counts once per institution, on the day that institution first sent it.
  Result<std::vector<DailyUploads>> uploads_per_day(const std::string& since_day);
  /// Every agent that sent anything, with its last upload, ordered by agent.
  Result<std::vector<AgentUploads>> agent_uploads();

 private:
  explicit StatsRepository(sqlite::Db db) : db_(std::move(db)) {}
  std::mutex mu_;
  sqlite::Db db_;
};

}  // namespace lightbox::hub::dashboard
