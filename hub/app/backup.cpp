#include "hub/app/backup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock/clock.hpp"
#include "common/fsio/atomic_file.hpp"
#include "common/hash/sha256.hpp"
#include "common/sqlite/db.hpp"
#include "hub/app/cli.hpp"
#include "hub/store/object_store.hpp"

namespace lightbox::hub::app {
namespace {

namespace fs = std::filesystem;

// Small directories of hub state beside the index and the objects (the enrollment CA).
constexpr const char* kStateDirs[] = {"ca"};
constexpr const char* kIndexName = "index.db";
constexpr const char* kManifestName = "BACKUP.json";

struct ObjectRef {
  std::string sha256;
  std::int64_t size = 0;
};

// Where FsObjectStore keeps object `sha` under `root` (objects/ab/cd/<sha>). Computed here rather
// than by opening an FsObjectStore on the source: opening one sweeps its tmp/, which would delete
// a running hub's uploads in flight.
std::string object_file(const std::string& root, const std::string& sha) {
  return root + "/objects/" + sha.substr(0, 2) + "/" + sha.substr(2, 2) + "/" + sha;
}

Result<std::vector<ObjectRef>> referenced_objects(const std::string& index_path) {
  sqlite::OpenOptions ro;
  ro.read_only = true;
  auto db = sqlite::Db::open(index_path, ro);
  if (!db) return std::move(db).error();
  auto st = db->prepare("SELECT sha256, size FROM objects ORDER BY sha256");
  if (!st) return std::move(st).error();
  std::vector<ObjectRef> out;
  for (;;) {
    auto row = st->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back({st->text(0), st->int64(1)});
  }
  return out;
}

// Streams one object from `src_root` into `dst` while hashing; nothing lands unless the bytes
// are the object's own (a damaged source is reported, never copied as if it were good).
// Source problems are not_found / hash_mismatch; anything else is the destination's.
Status copy_object(const std::string& src_root, store::FsObjectStore& dst, const ObjectRef& o) {
  const std::string path = object_file(src_root, o.sha256);
  int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return fail(Errc::not_found, std::string("missing: ") + std::strerror(errno));
  auto out = fsio::AtomicFile::create_in(dst.staging_dir());
  if (!out) {
    ::close(in);
    return std::move(out).error();
  }
  hash::Sha256 h;
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(in);
      return fail(Errc::hash_mismatch, std::string("unreadable: ") + std::strerror(e));
    }
    if (n == 0) break;
    h.update(buf.data(), static_cast<std::size_t>(n));
    if (auto s = out->write(buf.data(), static_cast<std::size_t>(n)); !s) {
      ::close(in);
      return s;
    }
  }
  ::close(in);
  if (static_cast<std::int64_t>(out->size()) != o.size)
    return fail(Errc::hash_mismatch, "size " + std::to_string(out->size()) + ", index says " + std::to_string(o.size));
  if (h.finish_hex() != o.sha256) return fail(Errc::hash_mismatch, "content does not match its SHA-256");
  return dst.put(o.sha256, std::move(*out));
}

// Brings every referenced object into `dst_root`; objects already there with the right size are
// kept (content-addressed names: same name and size = same bytes, checked when first copied).
Status copy_objects(const std::string& src_root, const std::string& dst_root,
                    const std::vector<ObjectRef>& refs, CopyReport& report) {
  auto dst = store::FsObjectStore::open_at(dst_root);
  if (!dst) return std::move(dst).error();
  report.objects = static_cast<std::int64_t>(refs.size());
  for (const auto& o : refs) {
    if (auto have = (*dst)->size(o.sha256); have && static_cast<std::int64_t>(*have) == o.size) {
      ++report.already_present;
      continue;
    }
    if (auto s = copy_object(src_root, **dst, o); !s) {
      // A missing or damaged source object is reported and the rest go on; a destination that
      // fails (full, read-only) stops the copy, since every later object would fail the same way.
      if (s.error().code != Errc::hash_mismatch && s.error().code != Errc::not_found) return s;
      report.damaged.push_back(o.sha256 + ": " + s.error().message);
      continue;
    }
    ++report.copied;
    report.bytes_copied += o.size;
  }
  return {};
}

// Copies the small state directories (regular files only), keeping each file's mode: the CA key
// stays 0600.
Status copy_state(const std::string& src_root, const std::string& dst_root, CopyReport& report) {
  for (const char* name : kStateDirs) {
    const std::string src = src_root + "/" + name;
    std::error_code ec;
    if (!fs::is_directory(src, ec)) continue;
    const std::string dst = dst_root + "/" + name;
    fs::create_directories(dst, ec);
    if (ec) return fail(Errc::io_error, "cannot create " + dst + ": " + ec.message());
    ::chmod(dst.c_str(), 0700);
    for (const auto& e : fs::directory_iterator(src, ec)) {
      if (!e.is_regular_file()) continue;
      auto bytes = fsio::read_file(e.path().string());
      if (!bytes) return std::move(bytes).error();
      const std::string target = dst + "/" + e.path().filename().string();
      struct stat st {};
      ::stat(e.path().c_str(), &st);
      // Created with the source's mode before any byte is written: a key is never readable by others.
      int fd = ::open((target + ".partial").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 0777);
      if (fd < 0) return fail(Errc::io_error, "cannot create " + target + ": " + std::strerror(errno));
      ::fchmod(fd, st.st_mode & 0777);
      bool ok = ::write(fd, bytes->data(), bytes->size()) == static_cast<ssize_t>(bytes->size()) && ::fsync(fd) == 0;
      ::close(fd);
      if (!ok || ::rename((target + ".partial").c_str(), target.c_str()) != 0)
        return fail(Errc::io_error, "cannot write " + target);
      ++report.state_files;
    }
    if (ec) return fail(Errc::io_error, "cannot list " + src + ": " + ec.message());
    if (auto s = fsio::fsync_dir(dst); !s) return s;
  }
  return {};
}

// Copies the index from `src_index` (a live or backed-up database) to `dst_root`/index.db.
Status copy_index(const std::string& src_index, const std::string& dst_root) {
  sqlite::OpenOptions ro;
  ro.read_only = true;
  auto src = sqlite::Db::open(src_index, ro);
  if (!src) return std::move(src).error();
  const std::string dst = dst_root + "/" + kIndexName;
  // A WAL left by an older database at the destination would be replayed into the new one.
  for (const char* suffix : {"-wal", "-shm"}) ::unlink((dst + suffix).c_str());
  if (auto s = src->backup_to(dst); !s) return s;
  return fsio::fsync_dir(dst_root);
}

}  // namespace

Result<CopyReport> backup_data_dir(const std::string& data_dir, const std::string& dest_dir) {
  const std::string src_index = data_dir + "/" + kIndexName;
  std::error_code ec;
  if (!fs::exists(src_index, ec)) return fail(Errc::not_found, "no hub index at " + src_index, "data_dir");
  fs::create_directories(dest_dir, ec);
  if (ec) return fail(Errc::io_error, "cannot create " + dest_dir + ": " + ec.message(), "--to");
  ::chmod(dest_dir.c_str(), 0700);
  // Index first, then objects: the hub stores an object before the index names it and never
  // deletes one, so every object the snapshot names exists by the time it is copied.
  if (auto s = copy_index(src_index, dest_dir); !s) return std::move(s).error();
  auto refs = referenced_objects(dest_dir + "/" + kIndexName);
  if (!refs) return std::move(refs).error();
  CopyReport report;
  if (auto s = copy_objects(data_dir, dest_dir, *refs, report); !s) return std::move(s).error();
  if (auto s = copy_state(data_dir, dest_dir, report); !s) return std::move(s).error();
  nlohmann::json manifest = {{"created_at", clock::iso_utc(clock::now_ms())},
                             {"source", fs::absolute(data_dir).string()},
                             {"objects", report.objects},
                             {"damaged", report.damaged}};
  if (auto s = fsio::write_file_atomic(dest_dir + "/" + kManifestName, manifest.dump(2) + "\n"); !s)
    return std::move(s).error();
  return report;
}

Result<CopyReport> restore_data_dir(const std::string& backup_dir, const std::string& data_dir, bool force) {
  const std::string src_index = backup_dir + "/" + kIndexName;
  std::error_code ec;
  if (!fs::exists(src_index, ec)) return fail(Errc::not_found, "no index.db in " + backup_dir, "--from");
  if (fs::exists(data_dir + "/" + kIndexName, ec) && !force)
    return fail(Errc::conflict, data_dir + " already holds a hub index; stop the hub and use --force to replace it",
                "data_dir");
  fs::create_directories(data_dir, ec);
  if (ec) return fail(Errc::io_error, "cannot create " + data_dir + ": " + ec.message(), "data_dir");
  auto refs = referenced_objects(src_index);
  if (!refs) return std::move(refs).error();
  CopyReport report;
  // Objects before the index: a restore cut short leaves objects nobody names yet, never an
  // index naming objects that are not there.
  if (auto s = copy_objects(backup_dir, data_dir, *refs, report); !s) return std::move(s).error();
  if (auto s = copy_state(backup_dir, data_dir, report); !s) return std::move(s).error();
  if (auto s = copy_index(src_index, data_dir); !s) return std::move(s).error();
  return report;
}

std::string report_json(const CopyReport& r, const std::string& from, const std::string& to) {
  return nlohmann::json{{"from", from},
                        {"to", to},
                        {"objects", r.objects},
                        {"copied", r.copied},
                        {"already_present", r.already_present},
                        {"bytes_copied", r.bytes_copied},
                        {"state_files", r.state_files},
                        {"damaged", r.damaged},
                        {"complete", r.complete()}}
      .dump();
}

namespace {

// Prints the report; exit 0 when complete, 1 when objects were missing or damaged (what could be
// copied was copied, and the report names the rest).
int finish(const Result<CopyReport>& r, const std::string& from, const std::string& to) {
  if (!r) {
    std::cerr << (r.error().field.empty() ? std::string("error") : r.error().field) << ": " << r.error().message
              << "\n";
    return 1;
  }
  std::cout << report_json(*r, from, to) << "\n";
  if (!r->complete())
    std::cerr << r->damaged.size() << " object(s) missing or damaged in " << from << ", listed under \"damaged\"\n";
  return r->complete() ? 0 : 1;
}

}  // namespace

int run_backup(const Args& args) {
  auto cfg = config_from(args);
  if (!cfg) return 1;
  auto to = args.option("to");
  if (!to || to->empty()) {
    std::cerr << "--to: is required (the backup directory)\n";
    return 2;
  }
  return finish(backup_data_dir(cfg->data_dir, *to), cfg->data_dir, *to);
}

int run_restore(const Args& args) {
  auto cfg = config_from(args);
  if (!cfg) return 1;
  auto from = args.option("from");
  if (!from || from->empty()) {
    std::cerr << "--from: is required (a directory made by `lightbox-hub backup`)\n";
    return 2;
  }
  return finish(restore_data_dir(*from, cfg->data_dir, args.flag("force")), *from, cfg->data_dir);
}

}  // namespace lightbox::hub::app
