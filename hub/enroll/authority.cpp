#include "hub/enroll/authority.hpp"

#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsio/atomic_file.hpp"

namespace lightbox::hub::enroll {
namespace {

constexpr int kCaDays = 3650;

// Writes `data` atomically with `mode` (the temporary is chmod-ed before any byte is written).
Status write_private(const std::string& path, const std::string& data, mode_t mode) {
  auto dir = std::filesystem::path(path).parent_path().string();
  auto f = fsio::AtomicFile::create_in(dir);
  if (!f) return std::move(f).error();
  if (::chmod(f->temp_path().c_str(), mode) != 0) return fail(Errc::io_error, "cannot chmod " + f->temp_path());
  if (auto s = f->write(data); !s) return s;
  return f->commit(path);
}

// Makes the CA in a temporary sibling directory and renames it into place, so a crash leaves
// either no CA directory (made again at the next start) or a whole one, never half of it.
Status create_ca_dir(const std::string& ca_dir) {
  const std::string tmp = ca_dir + std::string(fsio::kTempPrefix) + std::to_string(::getpid());
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
  std::filesystem::create_directories(tmp, ec);
  if (ec) return fail(Errc::io_error, "cannot create " + tmp + ": " + ec.message(), "data_dir");
  ::chmod(tmp.c_str(), 0700);
  auto made = crypto::make_ca("Lightbox hub CA", "Lightbox", kCaDays);
  if (!made) return std::move(made).error();
  if (auto s = write_private(tmp + "/ca.key", made->key_pem, 0600); !s) return s;
  if (auto s = write_private(tmp + "/ca.crt", made->cert_pem, 0644); !s) return s;
  std::filesystem::rename(tmp, ca_dir, ec);
  if (ec) {
    // Another process (serve and admin at once) made it first: use theirs.
    std::filesystem::remove_all(tmp, ec);
    if (!std::filesystem::exists(ca_dir + "/ca.crt", ec))
      return fail(Errc::io_error, "cannot move the new CA into " + ca_dir, "data_dir");
    return {};
  }
  return fsio::fsync_dir(std::filesystem::path(ca_dir).parent_path().string());
}

}  // namespace

Result<Authority> Authority::open(const AuthorityOptions& opts) {
  Authority a;
  a.cert_days_ = opts.cert_days;
  std::string cert_path = opts.ca_cert_file, key_path = opts.ca_key_file;
  if (cert_path.empty() != key_path.empty())
    return fail(Errc::invalid_config, "set both enroll.ca_cert_file and enroll.ca_key_file, or neither",
                cert_path.empty() ? "enroll.ca_cert_file" : "enroll.ca_key_file");
  if (cert_path.empty()) {
    cert_path = opts.ca_dir + "/ca.crt";
    key_path = opts.ca_dir + "/ca.key";
    std::error_code ec;
    if (!std::filesystem::exists(opts.ca_dir, ec))
      if (auto s = create_ca_dir(opts.ca_dir); !s) return std::move(s).error();
  }
  const bool configured = !opts.ca_cert_file.empty();
  auto cert = fsio::read_file(cert_path);
  if (!cert)
    return fail(Errc::invalid_config, "cannot read the CA certificate " + cert_path + ": " + cert.error().message,
                configured ? "enroll.ca_cert_file" : "data_dir");
  auto key = fsio::read_file(key_path);
  if (!key)
    return fail(Errc::invalid_config, "cannot read the CA key " + key_path + ": " + key.error().message,
                configured ? "enroll.ca_key_file" : "data_dir");
  auto match = crypto::key_matches_cert(*key, *cert);
  if (!match)
    return fail(Errc::invalid_config, "CA " + cert_path + " / " + key_path + ": " + match.error().message,
                configured ? "enroll.ca_key_file" : "data_dir");
  if (!*match)
    return fail(Errc::invalid_config, "the CA key " + key_path + " does not match " + cert_path,
                configured ? "enroll.ca_key_file" : "data_dir");
  a.ca_ = crypto::CertAndKey{std::move(*cert), std::move(*key)};
  a.cert_file_ = cert_path;
  return a;
}

Result<Issued> Authority::issue(const std::string& csr_pem, const std::string& agent,
                                const std::string& institution) const {
  crypto::ClientCertRequest req{csr_pem, agent, institution, cert_days_};
  auto pem = crypto::sign_client_cert(ca_, req);
  if (!pem) return std::move(pem).error();
  auto info = crypto::read_cert(*pem);
  if (!info) return std::move(info).error();
  return Issued{std::move(*pem), std::move(*info)};
}

}  // namespace lightbox::hub::enroll
