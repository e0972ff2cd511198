#include "agent/report/task_report.hpp"

#include <ctime>
#include <filesystem>

#include "common/clock/clock.hpp"
#include "common/fsio/atomic_file.hpp"

namespace lightbox::agent::report {

nlohmann::json task_record(const TaskFacts& f) {
  const std::string started = clock::iso_utc_ms(f.started_at_ms);
  const std::string finished = clock::iso_utc_ms(f.finished_at_ms);
  const std::int64_t verified = f.intake.collected - f.intake.quarantined;
  nlohmann::json fields{{"source", f.source},
                        {"kind", f.kind},
                        {"window_start", started},
                        {"window_end", finished},
                        {"found", f.found},
                        {"collected", f.intake.collected},
                        {"verified", verified},
                        {"uploaded", 0},
                        {"duplicates", f.intake.duplicates},
                        {"failed", f.intake.quarantined + f.intake.errors},
                        {"started_at", started},
                        {"finished_at", finished}};
  return {{"kind", "collection_task"}, {"key", f.source + "/" + started}, {"version", finished}, {"fields", fields}};
}

TaskReporter::TaskReporter(std::string staging_dir, queue::Intake& intake, log::Logger& log)
    : staging_dir_(std::move(staging_dir)), intake_(intake), log_(log) {}

void TaskReporter::report(const TaskFacts& f) {
  std::error_code ec;
  std::filesystem::create_directories(staging_dir_, ec);
  const std::string file = "task-" + std::to_string(f.finished_at_ms) + "-" + std::to_string(++seq_) + ".json";
  const std::string abs = staging_dir_ + "/" + file;
  nlohmann::json batch{{"records", nlohmann::json::array({task_record(f)})}};
  const std::string body = batch.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (auto s = fsio::write_file_atomic(abs, body); !s) {
    log_.warn("agent.report", "cannot write a collection task report", {{"source", f.source}, {"error", s.error().to_string()}});
    return;
  }
  sources::Candidate c{name_, "tasks/" + file, abs, body.size(), 0, "records"};
  auto st = intake_.admit(*this, {c});
  if (st.errors > 0) std::filesystem::remove(abs, ec);  // the report is lost, not the data it describes
}

Status TaskReporter::mark_collected(const std::vector<sources::Collected>& batch) {
  for (const auto& c : batch) {
    std::error_code ec;
    std::filesystem::remove(c.candidate.abs_path, ec);
  }
  return {};
}

}  // namespace lightbox::agent::report
