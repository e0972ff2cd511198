#include "agent/sources/dicom/dicom_source.hpp"

#include <set>

#include <nlohmann/json.hpp>

#include "agent/sources/dicom/dimse.hpp"
#include "common/fsio/atomic_file.hpp"

namespace lightbox::agent::sources::dicom {
namespace {

constexpr std::string_view kCat = "agent.sources.dicom";

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

ScuTarget target(const DicomConfig& c) {
  return ScuTarget{c.ae_title, *c.peer, c.connect_timeout_seconds, c.dimse_timeout_seconds};
}

// True when something at our own listen address answers an association like a DICOM
// application (accepting, or rejecting us as an unknown caller).
bool dicom_listener_at(const DicomConfig& c) {
  const std::string host = c.listen_address == "0.0.0.0" ? "127.0.0.1" : c.listen_address;
  ScuTarget self{c.ae_title, PeerPacs{c.ae_title, host, c.port}, c.connect_timeout_seconds,
                 c.dimse_timeout_seconds};
  auto s = echo(self);
  return s.ok() || s.error().code == Errc::forbidden;
}

}  // namespace

DicomSource::DicomSource(DicomConfig cfg, SeenStore& seen, std::string staging_dir, log::Logger& log,
                         MonotonicMs now, RisExpected ris)
    : cfg_(std::move(cfg)),
      seen_store_(seen),
      log_(log),
      now_(std::move(now)),
      ris_(std::move(ris)),
      staging_(std::move(staging_dir), now_),
      ledger_(cfg_.max_retries) {}

DicomSource::~DicomSource() = default;  // StoreScp's destructor stops and joins its thread

Result<std::string> DicomSource::check() {
  std::vector<std::string> good, bad;
  if (cfg_.peer) {
    if (auto s = echo(target(cfg_)); s)
      good.push_back(describe(*cfg_.peer) + " answered C-ECHO");
    else
      bad.push_back(s.error().message);
  }
  const std::string where = cfg_.listen_address + ":" + std::to_string(cfg_.port);
  if (scp_ && scp_->running()) {
    good.push_back("our SCP " + cfg_.ae_title + " listens on " + where);
  } else if (auto s = can_listen(cfg_.listen_address, cfg_.port); s) {
    good.push_back("our SCP " + cfg_.ae_title + " can listen on " + where);
  } else if (s.error().code == Errc::conflict && dicom_listener_at(cfg_)) {
    // `check` while `run` is running: the port is held by a DICOM application, most likely us.
    good.push_back("a DICOM application already listens on " + where + " (the running lightbox-agent?)");
  } else {
    bad.push_back("our SCP " + cfg_.ae_title + ": " + s.error().message);
  }
  if (!bad.empty()) return fail(Errc::network, join(bad, "; "), "peer");
  return join(good, "; ");
}

std::int64_t DicomSource::have(const std::string& study_uid) const {
  std::set<std::string> sops;
  const std::string prefix = study_uid + "/";
  for (auto it = seen_.lower_bound(prefix);
       it != seen_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
    sops.insert(it->first.substr(prefix.size()));
  auto staged = staging_.list();
  if (auto it = staged.find(study_uid); it != staged.end())
    for (const auto& f : it->second) sops.insert(f.sop_uid);
  return static_cast<std::int64_t>(sops.size());
}

std::string DicomSource::query_and_retrieve() {
  const ScuTarget t = target(cfg_);
  window_ = study_date_range(local_today(), cfg_.window_days);
  auto found = find_studies(t, window_);
  if (!found) return found.error().message;
  found_ = static_cast<std::int64_t>(found->size());
  auto todo = ledger_.plan(
      *found, [this](const std::string& uid) { return have(uid); }, ris_);
  log_.info(kCat, "C-FIND",
            {{"source", cfg_.name}, {"window", window_}, {"studies", found_}, {"to_retrieve", todo.size()}});
  std::vector<std::string> problems;
  for (const auto& uid : todo) {
    Result<RetrieveResult> r = cfg_.retrieve == Retrieve::get ? get_study(t, uid, staging_, log_)
                                                              : move_study(t, uid, cfg_.ae_title);
    const std::int64_t h = have(uid);
    if (!r) {
      ledger_.record_retrieve(uid, h, -1, false);
      problems.push_back(r.error().message);
      continue;
    }
    const bool complete = ledger_.record_retrieve(uid, h, r->total());
    const StudyProgress* p = ledger_.find(uid);
    log_.info(kCat, complete ? "study retrieved" : "study incomplete",
              {{"source", cfg_.name},
               {"study_uid", uid},
               {"have", h},
               {"expected", p ? p->expected : -1},
               {"completed", r->completed},
               {"failed", r->failed},
               {"warning", r->warning},
               {"attempts", p ? p->attempts : 0}});
  }
  auto gaps = ledger_.gap_sentences();
  if (!gaps.empty()) log_.warn(kCat, "incomplete studies", {{"source", cfg_.name}, {"gaps", gaps}});
  problems.insert(problems.end(), gaps.begin(), gaps.end());
  return join(problems, "; ");
}

void DicomSource::save_watermark(const std::string& problem) {
  nlohmann::json w = ledger_.to_json();
  w["window"] = window_;
  w["found"] = found_;
  w["staged_pending"] = pending_;
  w["last_error"] = problem;
  if (auto s = seen_store_.save_watermark(cfg_.name, "dicom", w.dump()); !s)
    log_.warn(kCat, "cannot save the watermark", {{"source", cfg_.name}, {"error", s.error().to_string()}});
}

Result<std::vector<Candidate>> DicomSource::scan() {
  if (!loaded_) {
    auto s = seen_store_.load(cfg_.name);
    if (!s) return std::move(s).error();
    seen_ = std::move(*s);
    if (auto w = seen_store_.load_watermark(cfg_.name); w && !w->empty()) {
      auto j = nlohmann::json::parse(*w, nullptr, /*allow_exceptions=*/false);
      ledger_.restore(j);
    }
    if (auto p = staging_.prepare(); !p) return p.error();
    if (auto text = fsio::read_file(counts_path()); text.ok())
      ledger_.restore_retrieve_counts(nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false));
    loaded_ = true;
  }
  std::vector<std::string> problems;
  if (!scp_) scp_ = std::make_unique<StoreScp>(cfg_, staging_, log_);
  if (!scp_->running()) {
    if (auto s = scp_->start(); !s) problems.push_back("our SCP " + cfg_.ae_title + ": " + s.error().message);
  }
  const std::int64_t now = now_();
  if (cfg_.retrieve != Retrieve::none && (!queried_ || now - last_query_ms_ >= cfg_.poll_seconds * 1000)) {
    queried_ = true;
    last_query_ms_ = now;
    if (cfg_.retrieve == Retrieve::move && !scp_->running())
      problems.push_back("C-MOVE skipped: our SCP is not listening, the PACS could not deliver");
    else
      problems.push_back(query_and_retrieve());
    if (auto s = fsio::write_file_atomic(counts_path(), ledger_.retrieve_counts().dump()); !s)
      log_.warn(kCat, "cannot save retrieve counts",
                {{"source", cfg_.name}, {"error", s.error().to_string()}});
  }

  std::vector<Candidate> out;
  std::size_t waiting = 0;
  const std::int64_t stable_ms = cfg_.stable_seconds * 1000;
  for (const auto& [study, files] : staging_.list()) {
    std::vector<const StagedFile*> fresh;
    for (const auto& f : files) {
      if (seen_.count(study + "/" + f.sop_uid) != 0) {
        staging_.remove(study, f.sop_uid);  // collected before: a re-retrieve sent it again
        continue;
      }
      fresh.push_back(&f);
    }
    if (fresh.empty()) {
      staging_.forget(study);
      continue;
    }
    if (now_() - staging_.last_activity_ms(study) < stable_ms) {
      waiting += fresh.size();
      continue;
    }
    for (const auto* f : fresh)
      out.push_back(Candidate{cfg_.name, study + "/" + f->sop_uid, f->abs_path, f->size, f->mtime_ns, {}});
  }
  pending_ = waiting;
  const std::string problem = join(problems, "; ");
  save_watermark(problem);
  if (!problem.empty()) {
    if (out.empty()) return fail(Errc::upstream, problem, "peer");
    log_.warn(kCat, "scan problems", {{"source", cfg_.name}, {"error", problem}});
  }
  return out;
}

Status DicomSource::mark_collected(const std::vector<Collected>& batch) {
  if (auto s = seen_store_.put(batch); !s) return s;
  for (const auto& c : batch) {
    const std::string& rel = c.candidate.rel_path;
    seen_[rel] = SeenEntry{c.candidate.size, c.candidate.mtime_ns, c.sha256};
    auto slash = rel.find('/');
    if (slash != std::string::npos) staging_.remove(rel.substr(0, slash), rel.substr(slash + 1));
  }
  return {};
}

}  // namespace lightbox::agent::sources::dicom
