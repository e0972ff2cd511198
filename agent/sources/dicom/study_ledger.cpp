#include "agent/sources/dicom/study_ledger.hpp"

#include <algorithm>
#include <set>

namespace lightbox::agent::sources::dicom {

std::int64_t StudyLedger::target(const StudyProgress& p) { return std::max(p.expected, p.ris_expected); }

std::vector<std::string> StudyLedger::plan(const std::vector<FoundStudy>& found, const HaveCount& have,
                                           const RisExpected& ris) {
  std::vector<std::string> out;
  std::set<std::string> in_window;
  for (const auto& f : found) {
    if (f.study_uid.empty() || !in_window.insert(f.study_uid).second) continue;
    auto [it, added] = studies_.try_emplace(f.study_uid);
    StudyProgress& p = it->second;
    const std::int64_t before = target(p);
    if (f.expected >= 0) {
      p.expected = f.expected;
      p.count_from_retrieve = false;
    }
    if (ris) p.ris_expected = ris(f.study_uid);
    p.have = have ? have(f.study_uid) : 0;
    const std::int64_t t = target(p);
    if (t >= 0 && p.have >= t) {
      p.complete = true;
      p.gave_up = false;
      continue;
    }
    if (t > before && before >= 0) {
      // The PACS (or RIS) now counts more instances: a new round of retrieves.
      p.complete = false;
      p.gave_up = false;
      p.attempts = 0;
    }
    if (!added && p.complete) continue;  // count unknown and the one retrieve succeeded
    if (p.gave_up) continue;
    if (p.attempts > max_retries_) {
      p.gave_up = true;
      continue;
    }
    out.push_back(f.study_uid);
  }
  for (auto it = studies_.begin(); it != studies_.end();) {
    if (in_window.count(it->first) == 0)
      it = studies_.erase(it);
    else
      ++it;
  }
  return out;
}

bool StudyLedger::record_retrieve(const std::string& study_uid, std::int64_t have,
                                  std::int64_t reported_total, bool ok) {
  StudyProgress& p = studies_[study_uid];
  p.have = have;
  if (!ok) {
    p.complete = false;
    if (++p.attempts > max_retries_) p.gave_up = true;
    return false;
  }
  if (p.expected < 0 && reported_total >= 0) {
    p.expected = reported_total;
    p.count_from_retrieve = true;
  }
  const std::int64_t t = target(p);
  p.complete = t >= 0 ? have >= t : true;
  if (p.complete) {
    p.attempts = 0;
    p.gave_up = false;
    return true;
  }
  ++p.attempts;
  if (p.attempts > max_retries_) p.gave_up = true;
  return false;
}

const StudyProgress* StudyLedger::find(const std::string& study_uid) const {
  auto it = studies_.find(study_uid);
  return it == studies_.end() ? nullptr : &it->second;
}

std::vector<std::string> StudyLedger::gaps() const {
  std::vector<std::string> out;
  for (const auto& [uid, p] : studies_)
    if (!p.complete) out.push_back(uid);
  return out;
}

std::vector<std::string> StudyLedger::gap_sentences() const {
  std::vector<std::string> out;
  for (const auto& [uid, p] : studies_) {
    if (p.complete || p.attempts == 0) continue;
    std::string s = "study " + uid + ": " + std::to_string(p.have) + " of " + std::to_string(target(p)) +
                    " instances after " + std::to_string(p.attempts) + " retrieve" +
                    (p.attempts == 1 ? "" : "s");
    if (p.ris_expected >= 0 && p.ris_expected > p.expected) s += " (count from the RIS)";
    if (p.gave_up) s += "; retries exhausted";
    out.push_back(std::move(s));
  }
  return out;
}

nlohmann::json StudyLedger::to_json() const {
  nlohmann::json incomplete = nlohmann::json::array();
  std::int64_t complete = 0;
  for (const auto& [uid, p] : studies_) {
    if (p.complete) {
      ++complete;
      continue;
    }
    incomplete.push_back({{"study_uid", uid},
                          {"expected", p.expected},
                          {"ris_expected", p.ris_expected},
                          {"have", p.have},
                          {"attempts", p.attempts},
                          {"gave_up", p.gave_up}});
  }
  return {{"studies", studies_.size()}, {"complete", complete}, {"incomplete", std::move(incomplete)}};
}

void StudyLedger::restore(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("incomplete") || !j["incomplete"].is_array()) return;
  for (const auto& e : j["incomplete"]) {
    if (!e.is_object() || !e.contains("study_uid") || !e["study_uid"].is_string()) continue;
    StudyProgress p;
    p.expected = e.value("expected", std::int64_t{-1});
    p.ris_expected = e.value("ris_expected", std::int64_t{-1});
    p.have = e.value("have", std::int64_t{0});
    p.attempts = e.value("attempts", std::int64_t{0});
    p.gave_up = e.value("gave_up", false);
    studies_[e["study_uid"].get<std::string>()] = p;
  }
}

nlohmann::json StudyLedger::retrieve_counts() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [uid, p] : studies_)
    if (p.complete && p.count_from_retrieve) out[uid] = p.expected;
  return out;
}

void StudyLedger::restore_retrieve_counts(const nlohmann::json& j) {
  if (!j.is_object()) return;
  for (const auto& [uid, n] : j.items()) {
    if (!n.is_number_integer() || studies_.count(uid) != 0) continue;
    StudyProgress p;
    p.expected = n.get<std::int64_t>();
    p.complete = true;
    p.count_from_retrieve = true;
    studies_[uid] = p;
  }
}

}  // namespace lightbox::agent::sources::dicom
