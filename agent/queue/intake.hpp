#pragma once
// Gets collected files into the queue: copy into the spool (hashing), verify the spool copy,
// then insert a batch in one transaction. Rejected files go to quarantine with their reason.
#include <functional>

#include "agent/queue/queue.hpp"
#include "agent/queue/spool.hpp"
#include "agent/sources/source.hpp"
#include "agent/verify/verifier.hpp"
#include "common/log/logger.hpp"

namespace lightbox::agent::queue {

/// What one admit/recover call did.
struct IntakeStats {
  std::int64_t collected = 0;    // files now in the queue (verified or quarantined)
  std::int64_t quarantined = 0;
  std::int64_t duplicates = 0;   // bytes already queued or delivered
  std::int64_t errors = 0;       // could not be copied; retried on the next scan
  std::int64_t bytes = 0;
  bool storage_full = false;     // the spool's filesystem is full (guard or ENOSPC): collection paused
};

/// The collect -> spool -> verify -> queue step. Use from one thread.
class Intake {
 public:
  static constexpr std::size_t kBatch = 64;  // files per transaction: uploads start early, commits stay few

  /// `on_enqueued` is called after each committed batch; `stop` is polled between files so a
  /// shutdown does not wait for a long batch (what was copied so far is still committed).
  Intake(Spool& spool, Queue& queue, const verify::Verifier& verifier, log::Logger& log,
         std::function<void()> on_enqueued = {}, std::function<bool()> stop = {});

  /// `has_room` is asked before each file is copied; false pauses collection (disk full) and the
  /// file stays pending at its source. Without a guard only ENOSPC pauses it.
  void set_space_guard(std::function<bool()> has_room) { has_room_ = std::move(has_room); }

  /// Admits candidates found by `src`, kBatch per transaction, and marks them collected.
  IntakeStats admit(sources::Source& src, const std::vector<sources::Candidate>& batch);
  /// Start-up: sweeps spool temporaries, re-verifies `collected` items (requeued from
  /// quarantine), re-queues spool files that have no queue row and re-records quarantined
  /// files (with the reason from their note) that have none (a rebuilt queue.db).
  IntakeStats recover();

 private:
  IntakeStats admit_chunk(sources::Source& src, const sources::Candidate* first, std::size_t n);

  Spool& spool_;
  Queue& queue_;
  const verify::Verifier& verifier_;
  log::Logger& log_;
  std::function<void()> on_enqueued_;
  std::function<bool()> stop_;
  std::function<bool()> has_room_;
};

}  // namespace lightbox::agent::queue
