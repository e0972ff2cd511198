#include "agent/queue/spool.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/hash/sha256.hpp"

namespace lightbox::agent::queue {
namespace fs = std::filesystem;

Spool::Spool(const std::string& data_dir)
    : spool_dir_(data_dir + "/spool"), quarantine_dir_(data_dir + "/quarantine") {}

Status Spool::prepare() const {
  std::error_code ec;
  for (const auto& d : {spool_dir_, quarantine_dir_}) {
    fs::create_directories(d, ec);
    if (ec) return fail(Errc::io_error, "cannot create " + d + ": " + ec.message());
  }
  return {};
}

std::size_t Spool::sweep_temporaries() const {
  return fsio::sweep_temporaries(spool_dir_) + fsio::sweep_temporaries(quarantine_dir_);
}

Result<fsio::CopyResult> Spool::admit(const std::string& src) const {
  if (auto s = fault("admit"); !s) return std::move(s).error();
  return fsio::copy_into_store(src, spool_dir_);
}

Status Spool::quarantine(const std::string& sha256, const QuarantineNote& note) const {
  if (auto s = fault("quarantine"); !s) return s;
  const std::string from = path(sha256);
  const std::string to = quarantine_dir_ + "/" + sha256;
  nlohmann::json j{{"sha256", sha256},       {"source", note.source}, {"path", note.path},
                   {"reason_code", note.reason_code}, {"reason", note.reason}, {"at_ms", note.at_ms}};
  // Note first: a crash between the two steps leaves a note and the file still in the spool,
  // which start-up re-verifies; never a quarantined file without its reason.
  if (auto s = fsio::write_file_atomic(to + ".json", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"); !s) return s;
  if (::rename(from.c_str(), to.c_str()) != 0)
    return fail(fsio::errc_from_errno(errno), "cannot move " + from + " to quarantine: " + std::strerror(errno));
  return fsio::fsync_dir(quarantine_dir_);
}

Status Spool::restore(const std::string& sha256) const {
  if (auto s = fault("restore"); !s) return s;
  const std::string from = quarantine_dir_ + "/" + sha256;
  if (::rename(from.c_str(), path(sha256).c_str()) != 0 && errno != ENOENT)
    return fail(fsio::errc_from_errno(errno), "cannot move " + from + " back to the spool: " + std::strerror(errno));
  ::unlink((from + ".json").c_str());
  return fsio::fsync_dir(spool_dir_);
}

Status Spool::remove(const std::string& sha256) const {
  if (auto s = fault("remove"); !s) return s;
  if (::unlink(path(sha256).c_str()) != 0 && errno != ENOENT)
    return fail(Errc::io_error, "cannot delete " + path(sha256) + ": " + std::strerror(errno));
  return {};
}

std::vector<std::string> Spool::list() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(spool_dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (hash::is_sha256_hex(name)) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace lightbox::agent::queue

namespace lightbox::agent::queue {

std::vector<std::pair<std::string, QuarantineNote>> Spool::quarantined() const {
  std::vector<std::pair<std::string, QuarantineNote>> out;
  std::error_code ec;
  for (fs::directory_iterator it(quarantine_dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!hash::is_sha256_hex(name)) continue;
    QuarantineNote note;
    if (auto text = fsio::read_file(quarantine_dir_ + "/" + name + ".json"); text.ok()) {
      auto j = nlohmann::json::parse(*text, nullptr, false);
      if (j.is_object()) {
        note.source = j.value("source", "");
        note.path = j.value("path", "");
        note.reason_code = j.value("reason_code", "");
        note.reason = j.value("reason", "");
        note.at_ms = j.value("at_ms", std::int64_t{0});
      }
    }
    if (note.reason_code.empty()) note.reason_code = "quarantined";
    if (note.reason.empty()) note.reason = "quarantined before the queue was rebuilt (note unreadable)";
    out.emplace_back(std::move(name), std::move(note));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace lightbox::agent::queue
