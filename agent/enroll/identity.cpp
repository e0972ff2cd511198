#include "agent/enroll/identity.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <sys/stat.h>

#include "common/clock/clock.hpp"
#include "common/fsio/atomic_file.hpp"

namespace lightbox::agent::enroll {
namespace {

Status write_mode(const std::string& dir, const std::string& path, const std::string& data, mode_t mode) {
  auto f = fsio::AtomicFile::create_in(dir);
  if (!f) return std::move(f).error();
  // Restricted before the first byte lands, so the key is never readable by others.
  if (::chmod(f->temp_path().c_str(), mode) != 0) return fail(Errc::io_error, "cannot chmod " + f->temp_path());
  if (auto s = f->write(data); !s) return s;
  return f->commit(path);
}

}  // namespace

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string iso_time(std::int64_t unix_seconds) { return clock::iso_utc(unix_seconds * 1000); }

bool identity_exists(const std::string& dir) {
  IdentityPaths p{dir};
  std::error_code ec;
  return std::filesystem::is_regular_file(p.key(), ec) && std::filesystem::is_regular_file(p.cert(), ec);
}

Status write_identity(const std::string& dir, const std::string& key_pem, const std::string& cert_pem,
                      const std::string& ca_pem) {
  auto match = crypto::key_matches_cert(key_pem, cert_pem);
  if (!match) return std::move(match).error();
  if (!*match) return fail(Errc::invalid_argument, "the certificate from the hub does not belong to our key");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(Errc::io_error, "cannot create " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  IdentityPaths p{dir};
  if (auto s = write_mode(dir, p.ca(), ca_pem, 0644); !s) return s;
  if (auto s = write_mode(dir, p.key(), key_pem, 0600); !s) return s;
  return write_mode(dir, p.cert(), cert_pem, 0644);
}

Result<crypto::CertInfo> read_identity(const std::string& dir) {
  IdentityPaths p{dir};
  auto pem = fsio::read_file(p.cert());
  if (!pem) return std::move(pem).error();
  return crypto::read_cert(*pem);
}

bool needs_renewal(const crypto::CertInfo& cert, std::int64_t now) {
  const std::int64_t lifetime = cert.not_after - cert.not_before;
  if (lifetime <= 0) return true;
  return (cert.not_after - now) * 3 < lifetime;
}

bool apply_identity(const std::string& dir, http::ClientOptions& o) {
  if (dir.empty() || !identity_exists(dir)) return false;
  IdentityPaths p{dir};
  o.client_cert_file = p.cert();
  o.client_key_file = p.key();
  return true;
}

}  // namespace lightbox::agent::enroll
