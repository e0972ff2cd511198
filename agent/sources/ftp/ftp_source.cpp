#include "agent/sources/ftp/ftp_source.hpp"

#include <chrono>
#include <deque>
#include <filesystem>
#include <set>

#include "agent/sources/ftp/ftp_listing.hpp"
#include "common/fsio/atomic_file.hpp"

namespace lightbox::agent::sources::ftp {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kCat = "agent.sources.ftp";
constexpr std::size_t kMdtmBatch = 200;  // commands per round trip

std::int64_t wall_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string join(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

std::string strip_slashes(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

bool inside(const std::string& path, const std::string& dir) {
  return !dir.empty() && (path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                                          (dir.back() == '/' || path[dir.size()] == '/')));
}

bool safe_name(const std::string& n) { return n.find_first_of("\r\n") == std::string::npos && n.find('/') == std::string::npos; }

// LIST of a missing folder is an empty listing on some servers (vsftpd): ask with CWD instead.
Status folder_exists(http::FtpClient& client, const std::string& dir) {
  auto r = client.commands({"CWD " + dir});
  if (!r) return std::move(r).error();
  const auto& reply = (*r)[0];
  if (reply.code / 100 == 2) return {};
  return fail(Errc::not_found, "folder " + dir + " does not exist on " + client.where() + " or is not accessible (" +
                                   (reply.lines.empty() ? std::string("no reply") : reply.lines.back()) + ")",
              "url");
}

}  // namespace

std::string resolve_server_path(const std::string& home, const std::string& path) {
  if (!path.empty() && path[0] == '/') return strip_slashes(path);
  if (path.empty() || path == ".") return strip_slashes(home.empty() ? "/" : home);
  return strip_slashes(join(home.empty() ? "/" : home, path));
}

std::string parse_ftp_url(const std::string& url, FtpConfig& cfg) {
  std::string rest;
  if (url.rfind("ftp://", 0) == 0) {
    rest = url.substr(6);
  } else if (url.rfind("ftps://", 0) == 0) {
    rest = url.substr(7);
    cfg.tls = http::FtpTls::implicit;
    cfg.port = 990;
  } else {
    return "must start with ftp:// (use \"tls\": \"explicit\" for FTPS)";
  }
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (authority.find('@') != std::string::npos) return "must not contain a user name or password; use \"username\" and \"password\"";
  if (authority.empty()) return "has no host";
  std::string host = authority;
  if (auto colon = authority.rfind(':'); colon != std::string::npos && authority.find(']') == std::string::npos) {
    host = authority.substr(0, colon);
    std::string port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return "has a bad port";
    cfg.port = std::stoi(port);
    if (cfg.port < 1 || cfg.port > 65535) return "has a bad port";
  }
  if (host.empty()) return "has no host";
  if (path.find('?') != std::string::npos || path.find('#') != std::string::npos) return "must not have a query or fragment";
  path = percent_decode(path);
  if (path.find_first_of("\r\n") != std::string::npos) return "must not contain line breaks";
  cfg.host = host;
  cfg.root = path;  // "outbox" (login-relative) or "/data/outbox" (from "//data/outbox" or "%2Fdata/outbox")
  return {};
}

FtpConfig parse_ftp_config(config::Node& n, FtpConfig f) {
  n.get("url", f.url, true);
  if (n.has("url")) {
    if (auto why = parse_ftp_url(f.url, f); !why.empty()) n.problem("url", why + " (got '" + f.url + "')");
  }
  std::string tls = f.tls == http::FtpTls::implicit ? "implicit" : "none";
  n.get_enum("tls", tls, {"none", "explicit", "implicit"});
  if (f.tls == http::FtpTls::implicit && tls != "implicit") n.problem("tls", "must be \"implicit\" with an ftps:// url");
  f.tls = tls == "explicit" ? http::FtpTls::explicit_ : tls == "implicit" ? http::FtpTls::implicit : http::FtpTls::none;
  if (f.tls == http::FtpTls::implicit && f.url.rfind("ftp://", 0) == 0 && f.port == 21) f.port = 990;
  n.get("ca_file", f.ca_file);
  if (!f.ca_file.empty() && f.tls == http::FtpTls::none) n.problem("ca_file", "is only used with tls \"explicit\" or \"implicit\"");
  n.get("username", f.username, true);
  std::string password;
  n.get("password", password);
  f.password = log::Secret(password);
  n.get("passive", f.passive);
  n.get("recursive", f.recursive);
  n.get_int("stable_seconds", f.stable_seconds, 1, 86400);
  n.get_int("timeout_seconds", f.timeout_seconds, 1, 86400);
  n.get("include", f.include);
  n.get("exclude", f.exclude);
  std::string after = "keep";
  n.get_enum("after_upload", after, {"keep", "delete", "move"});
  f.after_upload = after == "delete" ? AfterUpload::del : after == "move" ? AfterUpload::move : AfterUpload::keep;
  n.get("move_to", f.move_to);
  if (f.move_to.find_first_of("\r\n") != std::string::npos) n.problem("move_to", "must not contain line breaks");
  if (f.after_upload == AfterUpload::move && f.move_to.empty())
    n.problem("move_to", "is required when after_upload is \"move\"");
  return f;
}

FtpSource::FtpSource(FtpConfig cfg, SeenStore& seen, log::Logger& log, std::string staging_dir, MonotonicMs now,
                     std::function<std::int64_t()> wall_now_s)
    : cfg_(std::move(cfg)),
      seen_store_(seen),
      log_(log),
      staging_dir_(std::move(staging_dir)),
      now_(std::move(now)),
      wall_now_s_(wall_now_s ? std::move(wall_now_s) : std::function<std::int64_t()>(wall_seconds)),
      client_(client_options()),
      stability_(cfg_.stable_seconds * 1000),
      admin_(client_options()) {}

http::FtpOptions FtpSource::client_options() const {
  http::FtpOptions o;
  o.host = cfg_.host;
  o.port = cfg_.port;
  o.tls = cfg_.tls;
  o.ca_file = cfg_.ca_file;
  o.username = cfg_.username;
  o.password = cfg_.password;
  o.passive = cfg_.passive;
  o.timeout_seconds = cfg_.timeout_seconds;
  return o;
}

Result<std::string> FtpSource::check() {
  auto home = client_.login();
  if (!home) return std::move(home).error();
  std::string root = resolve_server_path(*home, cfg_.root);
  if (auto ok = folder_exists(client_, root); !ok)
    return fail(ok.error().code, "logged in to " + client_.where() + " as " + cfg_.username + ", but " + ok.error().message,
                "url");
  auto listed = client_.list(root, false);
  if (!listed) return fail(listed.error().code, "logged in to " + client_.where() + " as " + cfg_.username +
                                                    ", but cannot list " + root + " (" + listed.error().message + ")",
                           "url");
  auto entries = parse_listing(*listed, false, wall_now_s_());
  std::string tls = cfg_.tls == http::FtpTls::none ? "" : " over TLS";
  return "logged in to " + client_.where() + tls + " as " + cfg_.username + "; " + root + " lists " +
         std::to_string(entries.size()) + " entries";
}

void FtpSource::clear_staging() {
  std::error_code ec;
  fs::create_directories(staging_dir_, ec);
  for (fs::directory_iterator it(staging_dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code rec;
    fs::remove(it->path(), rec);
  }
}

Result<std::vector<FtpSource::Found>> FtpSource::walk(const std::string& root_abs, const std::string& skip_abs) {
  std::vector<Found> files;
  std::deque<std::string> dirs{root_abs};
  std::set<std::string> visited;
  const std::int64_t now_s = wall_now_s_();
  while (!dirs.empty()) {
    std::string dir = dirs.front();
    dirs.pop_front();
    if (!visited.insert(dir).second) continue;
    auto text = client_.list(dir, mlsd_ == 1);
    if (!text) {
      if (dir == root_abs) return std::move(text).error();
      // One unreadable subfolder must not hide the rest of the tree.
      log_.warn(kCat, "cannot list a subfolder", {{"source", cfg_.name}, {"dir", dir}, {"error", text.error().message}});
      continue;
    }
    for (auto& e : parse_listing(*text, mlsd_ == 1, now_s)) {
      if (!safe_name(e.name)) continue;
      std::string abs = join(dir, e.name);
      if (e.is_dir) {
        if (cfg_.recursive && !inside(abs, skip_abs)) dirs.push_back(abs);
        continue;
      }
      if (!e.is_file || e.name.rfind(fsio::kTempPrefix, 0) == 0) continue;
      std::string rel = abs.substr(root_abs == "/" ? 1 : root_abs.size() + 1);
      if (!matches_any(cfg_.include, rel) || matches_any(cfg_.exclude, rel)) continue;
      files.push_back(Found{rel, e.size, e.mtime_s, e.mtime_s});
    }
  }
  return files;
}

void FtpSource::fill_exact_times(const std::string& root_abs, std::vector<Found>& files) {
  // LIST gives minutes (or days) only: ask MDTM for files whose listed size or time moved since
  // the last scan, in batches on the control connection; the rest reuse the last answer.
  std::vector<Found*> ask;
  std::map<std::string, Hint> next;
  for (auto& f : files) {
    auto h = hints_.find(f.rel);
    if (h != hints_.end() && h->second.size == f.size && h->second.list_mtime_s == f.list_mtime_s) {
      f.mtime_s = h->second.mtime_s;
      next[f.rel] = h->second;
    } else {
      ask.push_back(&f);
    }
  }
  for (std::size_t i = 0; i < ask.size(); i += kMdtmBatch) {
    std::vector<std::string> cmds;
    std::size_t n = std::min(kMdtmBatch, ask.size() - i);
    for (std::size_t k = 0; k < n; ++k) cmds.push_back("MDTM " + join(root_abs, ask[i + k]->rel));
    auto replies = client_.commands(cmds);
    if (!replies) {
      log_.warn(kCat, "MDTM failed; using LIST times", {{"source", cfg_.name}, {"error", replies.error().message}});
      break;
    }
    for (std::size_t k = 0; k < n; ++k) {
      const auto& r = (*replies)[k];
      Found& f = *ask[i + k];
      if (r.code == 213 && !r.lines.empty() && r.lines.back().size() > 4) {
        if (auto t = parse_ftp_time(std::string_view(r.lines.back()).substr(4))) f.mtime_s = *t;
      }
      next[f.rel] = Hint{f.size, f.list_mtime_s, f.mtime_s};
    }
  }
  hints_ = std::move(next);
}

Result<std::vector<Candidate>> FtpSource::scan() {
  if (!loaded_) {
    auto s = seen_store_.load(cfg_.name);
    if (!s) return std::move(s).error();
    seen_ = std::move(*s);
    loaded_ = true;
  }
  clear_staging();
  auto home = client_.login();
  if (!home) return std::move(home).error();
  if (mlsd_ < 0) {
    auto feat = client_.commands({"FEAT"});
    if (!feat) return std::move(feat).error();
    mlsd_ = features_have_mlsd((*feat)[0].lines) ? 1 : 0;
  }
  const std::string root_abs = resolve_server_path(*home, cfg_.root);
  const std::string skip_abs =
      cfg_.after_upload == AfterUpload::move ? resolve_server_path(*home, cfg_.move_to) : std::string();
  if (auto ok = folder_exists(client_, root_abs); !ok) return std::move(ok).error();
  auto files = walk(root_abs, skip_abs);
  if (!files) return std::move(files).error();
  if (mlsd_ == 0) fill_exact_times(root_abs, *files);

  const std::int64_t now = now_();
  std::vector<Candidate> out;
  for (const auto& f : *files) {
    const std::int64_t mtime_ns = f.mtime_s * 1'000'000'000;
    if (auto it = seen_.find(f.rel); it != seen_.end() && it->second.size == f.size && it->second.mtime_ns == mtime_ns)
      continue;  // collected before, unchanged
    if (!stability_.observe(f.rel, f.size, f.mtime_s, now)) continue;
    std::string staged = staging_dir_ + "/" + std::to_string(++staged_seq_);
    std::string part = staging_dir_ + "/" + std::string(fsio::kTempPrefix) + std::to_string(staged_seq_);
    auto got = client_.download(join(root_abs, f.rel), part);
    std::error_code ec;
    if (!got) {
      fs::remove(part, ec);
      log_.warn(kCat, "download failed", {{"source", cfg_.name}, {"path", f.rel}, {"error", got.error().message}});
      if (got.error().code == Errc::storage_full || got.error().code == Errc::unauthorized ||
          got.error().code == Errc::network)
        break;  // the rest would fail the same way; they stay pending
      continue;
    }
    if (*got != f.size) {
      // Changed while we read it: wait for it to settle again.
      fs::remove(part, ec);
      stability_.restart(f.rel, now_());
      continue;
    }
    fs::rename(part, staged, ec);
    if (ec) {
      fs::remove(part, ec);
      continue;
    }
    out.push_back(Candidate{cfg_.name, f.rel, staged, f.size, mtime_ns, {}});
  }
  stability_.end_scan();
  return out;
}

Status FtpSource::mark_collected(const std::vector<Collected>& batch) {
  if (auto s = seen_store_.put(batch); !s) return s;
  for (const auto& c : batch) {
    seen_[c.candidate.rel_path] = SeenEntry{c.candidate.size, c.candidate.mtime_ns, c.sha256};
    stability_.forget(c.candidate.rel_path);
    std::error_code ec;
    fs::remove(c.candidate.abs_path, ec);
  }
  return {};
}

Status FtpSource::after_upload(const std::string& rel_path, std::uint64_t size) {
  if (cfg_.after_upload == AfterUpload::keep) return {};
  if (rel_path.find_first_of("\r\n") != std::string::npos) return fail(Errc::invalid_argument, "bad path");
  std::lock_guard lock(admin_mu_);
  if (admin_home_.empty()) {
    auto home = admin_.login();
    if (!home) return std::move(home).error();
    admin_home_ = *home;
  }
  const std::string root_abs = resolve_server_path(admin_home_, cfg_.root);
  const std::string src = join(root_abs, rel_path);
  auto sz = admin_.commands({"TYPE I", "SIZE " + src});
  if (!sz) return std::move(sz).error();
  const auto& r = (*sz)[1];
  if (r.code == 550) return {};  // already gone (moved or deleted by someone else)
  if (r.code == 213 && !r.lines.empty()) {
    std::string v = r.lines.back().substr(4);
    // Never remove bytes the hub has not seen: if the file changed since collection, leave it.
    if (std::to_string(size) != v)
      return fail(Errc::conflict, admin_.where() + src + " changed after it was collected; left in place");
  }
  if (cfg_.after_upload == AfterUpload::del) {
    auto d = admin_.commands({"DELE " + src});
    if (!d) return std::move(d).error();
    const auto& dr = (*d)[0];
    if (dr.code / 100 != 2)
      return fail(Errc::forbidden, "the server refused to delete " + src + " (" +
                                       (dr.lines.empty() ? std::string("no reply") : dr.lines.back()) + ")");
    return {};
  }
  const std::string move_abs = resolve_server_path(admin_home_, cfg_.move_to);
  const std::string dst = join(move_abs, rel_path);
  std::vector<std::string> cmds;
  // Create the target folder and its parents from move_to down; "exists" refusals are expected
  // and ignored (the reply codes of MKD are not looked at).
  std::string dir = dst.substr(0, dst.rfind('/'));
  std::vector<std::string> parents;
  for (std::string d = dir; d.size() > 1 && d.size() >= move_abs.size(); d = d.substr(0, d.rfind('/')))
    parents.push_back(d);
  for (auto it = parents.rbegin(); it != parents.rend(); ++it) cmds.push_back("MKD " + *it);
  cmds.push_back("RNFR " + src);
  cmds.push_back("RNTO " + dst);
  auto m = admin_.commands(cmds);
  if (!m) return std::move(m).error();
  const auto& rnfr = (*m)[cmds.size() - 2];
  const auto& rnto = (*m)[cmds.size() - 1];
  if (rnfr.code != 350 || rnto.code / 100 != 2) {
    const auto& bad = rnfr.code != 350 ? rnfr : rnto;
    return fail(Errc::forbidden, "the server refused to move " + src + " to " + dst + " (" +
                                     (bad.lines.empty() ? std::string("no reply") : bad.lines.back()) + ")");
  }
  return {};
}

}  // namespace lightbox::agent::sources::ftp
