#pragma once
// Collection task reports (采集任务): after each scan that found something, one
// `collection_task` record goes to the hub through the same intake path as a view's records
// (a JSON batch in staging -> spool -> verify -> queue -> POST /api/v1/records).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/queue/intake.hpp"
#include "agent/sources/source.hpp"
#include "common/log/logger.hpp"

namespace lightbox::agent::report {

/// What one scan did, in the counts of the contract's collection_task record.
struct TaskFacts {
  std::string source;
  std::string kind;
  std::int64_t started_at_ms = 0;   // unix ms
  std::int64_t finished_at_ms = 0;
  std::int64_t found = 0;           // candidates the scan returned (files, or record batches)
  queue::IntakeStats intake;        // what the intake did with them
};

/// The collection_task record for one scan: key "<source>/<started_at>", version = finished_at.
/// `uploaded` is 0 at report time: uploads follow the scan (each item's receipt is in the queue).
nlohmann::json task_record(const TaskFacts& f);

/// Writes task records as batches and admits them. Acts as the (internal) source "@tasks" of
/// those batches, a name no configured source can have.
class TaskReporter final : public sources::Source {
 public:
  TaskReporter(std::string staging_dir, queue::Intake& intake, log::Logger& log);

  /// Reports one scan; failures are logged, never thrown (a report must not stop collection).
  void report(const TaskFacts& f);

  const std::string& name() const override { return name_; }
  std::string_view kind() const override { return "report"; }
  std::int64_t poll_seconds() const override { return 0; }
  std::int64_t stable_seconds() const override { return 0; }
  Result<std::string> check() override { return std::string("collection task reports"); }
  Result<std::vector<sources::Candidate>> scan() override { return std::vector<sources::Candidate>{}; }
  std::size_t pending() const override { return 0; }
  Status mark_collected(const std::vector<sources::Collected>& batch) override;
  Status after_upload(const std::string&, std::uint64_t) override { return {}; }

 private:
  std::string name_ = "@tasks";
  std::string staging_dir_;
  queue::Intake& intake_;
  log::Logger& log_;
  std::int64_t seq_ = 0;
};

}  // namespace lightbox::agent::report
