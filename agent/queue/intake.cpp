#include "agent/queue/intake.hpp"

#include <algorithm>
#include <filesystem>

namespace lightbox::agent::queue {
namespace {

constexpr std::string_view kCat = "agent.queue";

bool holds_no_spool_copy(State s) { return s == State::done || s == State::quarantined; }

}  // namespace

Intake::Intake(Spool& spool, Queue& queue, const verify::Verifier& verifier, log::Logger& log,
               std::function<void()> on_enqueued, std::function<bool()> stop)
    : spool_(spool),
      queue_(queue),
      verifier_(verifier),
      log_(log),
      on_enqueued_(std::move(on_enqueued)),
      stop_(std::move(stop)) {}

IntakeStats Intake::admit(sources::Source& src, const std::vector<sources::Candidate>& batch) {
  IntakeStats total;
  for (std::size_t i = 0; i < batch.size() && !(stop_ && stop_()); i += kBatch) {
    IntakeStats s = admit_chunk(src, batch.data() + i, std::min(kBatch, batch.size() - i));
    total.collected += s.collected;
    total.quarantined += s.quarantined;
    total.duplicates += s.duplicates;
    total.errors += s.errors;
    total.bytes += s.bytes;
    total.storage_full = total.storage_full || s.storage_full;
    if (s.collected > 0 && on_enqueued_) on_enqueued_();
    if (s.storage_full) break;
  }
  return total;
}

IntakeStats Intake::admit_chunk(sources::Source& src, const sources::Candidate* first, std::size_t n) {
  IntakeStats st;
  std::vector<NewItem> news;
  std::vector<sources::Collected> collected;
  const std::int64_t now = unix_now_ms();
  for (std::size_t i = 0; i < n && !(stop_ && stop_()); ++i) {
    const auto& c = first[i];
    if (has_room_ && !has_room_()) {
      st.storage_full = true;  // the rest stays pending at the source until space returns
      break;
    }
    auto copy = spool_.admit(c.abs_path);
    if (!copy && copy.error().code == Errc::storage_full) {
      st.storage_full = true;
      ++st.errors;
      log_.warn(kCat, "spool disk is full: collection paused", {{"source", c.source}, {"path", c.rel_path},
                                                                {"error", copy.error().to_string()}});
      break;
    }
    if (!copy) {
      // The file stays pending at the source and is tried again on the next scan.
      ++st.errors;
      log_.warn(kCat, "cannot copy into the spool", {{"source", c.source}, {"path", c.rel_path},
                                                     {"error", copy.error().to_string()}});
      continue;
    }
    NewItem item{copy->sha256, "dicom", c.source, c.rel_path, copy->size, State::verified, {}, {}};
    verify::Verdict v = verifier_.check(spool_.path(copy->sha256), c.rel_path, c.kind_hint);
    item.kind = v.records ? "records" : std::string(wire::to_string(v.kind));
    if (!v.accepted) {
      auto existing = queue_.find(copy->sha256);
      if (existing.ok() && *existing && (*existing)->state != State::quarantined) {
        // Same bytes already queued under an earlier policy: leave that item alone.
        item.state = (*existing)->state;
      } else {
        item.state = State::quarantined;
        item.error_code = v.reason_code;
        item.error = v.reason;
        if (auto s = spool_.quarantine(copy->sha256, {c.source, c.rel_path, v.reason_code, v.reason, now}); !s) {
          ++st.errors;
          st.storage_full = st.storage_full || s.error().code == Errc::storage_full;
          log_.error(kCat, "cannot quarantine", {{"path", c.rel_path}, {"error", s.error().to_string()}});
          continue;
        }
        log_.warn(kCat, "quarantined", {{"source", c.source}, {"path", c.rel_path},
                                        {"reason_code", v.reason_code}, {"reason", v.reason}});
      }
    }
    news.push_back(std::move(item));
    collected.push_back({c, copy->sha256});
  }
  if (news.empty()) return st;
  auto ins = queue_.insert(news, now);
  if (!ins) {
    st.errors += static_cast<std::int64_t>(news.size());
    log_.error(kCat, "cannot insert into the queue", {{"error", ins.error().to_string()}});
    return st;
  }
  for (std::size_t i = 0; i < news.size(); ++i) {
    const Inserted& r = (*ins)[i];
    if (r.added) {
      ++st.collected;
      st.bytes += static_cast<std::int64_t>(news[i].size);
      if (news[i].state == State::quarantined) ++st.quarantined;
      continue;
    }
    ++st.duplicates;
    if (news[i].state != State::quarantined && holds_no_spool_copy(r.existing_state)) (void)spool_.remove(news[i].sha256);
    if (r.existing_state == State::done) {
      // The hub already holds these bytes: this file is delivered too.
      if (auto s = src.after_upload(news[i].rel_path, news[i].size); !s)
        log_.warn(kCat, "after_upload", {{"path", news[i].rel_path}, {"error", s.error().to_string()}});
    }
  }
  if (auto s = src.mark_collected(collected); !s)
    log_.error(kCat, "cannot record collected files", {{"error", s.error().to_string()}});
  return st;
}

IntakeStats Intake::recover() {
  IntakeStats st;
  if (auto n = spool_.sweep_temporaries(); n > 0) log_.info(kCat, "swept spool temporaries", {{"count", n}});
  const std::int64_t now = unix_now_ms();

  // Items requeued from quarantine wait in `collected` to be verified again.
  auto pending = queue_.list(State::collected, 1'000'000);
  if (pending.ok()) {
    for (const auto& it : *pending) {
      Settlement s;
      std::error_code ec;
      if (!std::filesystem::exists(spool_.path(it.sha256), ec)) {
        s.to = State::failed;
        s.error_code = "io_error";
        s.error = "spool file is missing";
      } else if (auto v = verifier_.check(spool_.path(it.sha256), it.rel_path, it.kind == "records" ? "records" : "");
                 v.accepted) {
        s.to = State::verified;
        s.next_attempt_at = now;
      } else {
        s.to = State::quarantined;
        s.error_code = v.reason_code;
        s.error = v.reason;
        (void)spool_.quarantine(it.sha256, {it.source, it.rel_path, v.reason_code, v.reason, now});
      }
      if (auto r = queue_.settle(it.id, State::collected, s, now); !r)
        log_.error(kCat, "cannot settle collected item", {{"id", it.id}, {"error", r.error().to_string()}});
    }
  }

  // Spool files without a row: a crash between the copy and the insert. Re-queue them when
  // they verify; drop copies of bytes already delivered.
  for (const auto& sha : spool_.list()) {
    auto found = queue_.find(sha);
    if (!found) continue;
    if (*found) {
      if (holds_no_spool_copy((*found)->state)) (void)spool_.remove(sha);
      continue;
    }
    log_.warn(kCat, "spool file without a queue row", {{"sha256", sha}});
    std::error_code ec;
    auto size = std::filesystem::file_size(spool_.path(sha), ec);
    NewItem item{sha, "dicom", "", "spool/" + sha, ec ? 0 : size, State::verified, {}, {}};
    // A records batch written by a view source starts with '{'; no DICOM file or attachment does.
    const bool batch = verify::looks_like_json(spool_.path(sha));
    verify::Verdict v = verifier_.check(spool_.path(sha), "", batch ? "records" : "");
    item.kind = v.records ? "records" : std::string(wire::to_string(v.kind));
    if (!v.accepted) {
      item.state = State::quarantined;
      item.error_code = v.reason_code;
      item.error = v.reason;
      if (auto s = spool_.quarantine(sha, {"", item.rel_path, v.reason_code, v.reason, now}); !s) continue;
      ++st.quarantined;
    }
    if (auto r = queue_.insert({item}, now); r.ok()) ++st.collected;
  }
  // Quarantined files without a row (a rebuilt queue.db): record them again with their reason.
  for (const auto& [sha, note] : spool_.quarantined()) {
    auto found = queue_.find(sha);
    if (!found || *found) continue;
    std::error_code ec;
    auto size = std::filesystem::file_size(spool_.quarantine_dir() + "/" + sha, ec);
    NewItem item{sha, "dicom", note.source, note.path.empty() ? "quarantine/" + sha : note.path, ec ? 0 : size,
                 State::quarantined, note.reason_code, note.reason};
    if (auto r = queue_.insert({item}, now); r.ok()) ++st.quarantined;
  }
  if (st.collected > 0 && on_enqueued_) on_enqueued_();
  return st;
}

}  // namespace lightbox::agent::queue
