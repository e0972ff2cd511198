#include "common/crypto/pki.hpp"

#include <ctime>
#include <memory>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "common/hash/sha256.hpp"

namespace lightbox::crypto {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
void free_bio(BIO* b) { BIO_free(b); }
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, free_bio>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;

// The newest OpenSSL error queue entry as text (and the queue cleared).
std::string ssl_error(std::string_view what) {
  unsigned long e = ERR_get_error();
  std::string msg(what);
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    msg += ": ";
    msg += buf;
  }
  ERR_clear_error();
  return msg;
}

BioPtr mem_bio(const std::string& s) { return BioPtr(BIO_new_mem_buf(s.data(), static_cast<int>(s.size()))); }

std::string bio_text(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

Result<KeyPtr> read_key(const std::string& pem) {
  auto bio = mem_bio(pem);
  KeyPtr k(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!k) return fail(Errc::invalid_argument, ssl_error("not a PEM private key"));
  return k;
}

Result<CertPtr> read_x509(const std::string& pem) {
  auto bio = mem_bio(pem);
  CertPtr c(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!c) return fail(Errc::invalid_argument, ssl_error("not a PEM certificate"));
  return c;
}

Result<std::string> key_pem(EVP_PKEY* k) {
  BioPtr out(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(out.get(), k, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return fail(Errc::internal, ssl_error("cannot encode the private key"));
  return bio_text(out.get());
}

Result<std::string> cert_pem(X509* c) {
  BioPtr out(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(out.get(), c) != 1) return fail(Errc::internal, ssl_error("cannot encode the certificate"));
  return bio_text(out.get());
}

Status add_name(X509_NAME* name, const char* field, const std::string& value) {
  if (value.empty()) return {};
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.c_str()),
                                 -1, -1, 0) != 1)
    return fail(Errc::invalid_argument, ssl_error(std::string("cannot set ") + field));
  return {};
}

Status add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    return fail(Errc::internal, ssl_error(std::string("cannot add extension ") + value));
  return {};
}

// A positive random 128-bit serial (RFC 5280 allows up to 20 octets).
Status random_serial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return fail(Errc::internal, ssl_error("RAND_bytes"));
  bytes[0] &= 0x7f;
  bytes[0] |= 0x01;  // never zero, never negative
  BnPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)))
    return fail(Errc::internal, ssl_error("cannot set the serial"));
  return {};
}

Status set_validity(X509* cert, int days) {
  // Backdated a little: an agent whose clock runs a few minutes behind can use it at once.
  if (!X509_gmtime_adj(X509_getm_notBefore(cert), -300) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert), days, 0, nullptr))
    return fail(Errc::internal, ssl_error("cannot set the validity"));
  return {};
}

std::int64_t to_unix(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string name_text(const X509_NAME* n) {
  BioPtr out(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(out.get(), n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return bio_text(out.get());
}

std::string name_entry(const X509_NAME* n, int nid) {
  int i = X509_NAME_get_index_by_NID(n, nid, -1);
  if (i < 0) return {};
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, s);
  if (len < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

Status check_request_key(EVP_PKEY* pub) {
  const int id = EVP_PKEY_get_base_id(pub);
  if (id == EVP_PKEY_EC) {
    char group[64] = {0};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(pub, group, sizeof group, &len) != 1)
      return fail(Errc::invalid_argument, "the CSR's EC key names no curve", "csr");
    std::string g(group, len);
    if (g != "prime256v1" && g != "P-256" && g != "secp384r1" && g != "P-384")
      return fail(Errc::invalid_argument, "the CSR's EC key uses curve " + g + "; P-256 or P-384 is required", "csr");
    return {};
  }
  if (id == EVP_PKEY_RSA) {
    if (EVP_PKEY_get_bits(pub) < 2048)
      return fail(Errc::invalid_argument, "the CSR's RSA key is shorter than 2048 bits", "csr");
    return {};
  }
  return fail(Errc::invalid_argument, "the CSR's key must be EC (P-256/P-384) or RSA", "csr");
}

}  // namespace

Result<std::string> random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    return fail(Errc::internal, ssl_error("RAND_bytes"));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

Result<std::string> generate_ec_key() {
  KeyPtr k(EVP_EC_gen("P-256"));
  if (!k) return fail(Errc::internal, ssl_error("cannot generate an EC P-256 key"));
  return key_pem(k.get());
}

Result<std::string> make_csr(const std::string& key, const std::string& common_name) {
  auto k = read_key(key);
  if (!k) return std::move(k).error();
  ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1) return fail(Errc::internal, ssl_error("X509_REQ_new"));
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  if (auto s = add_name(name, "CN", common_name); !s) return std::move(s).error();
  if (X509_REQ_set_pubkey(req.get(), k->get()) != 1 || X509_REQ_sign(req.get(), k->get(), EVP_sha256()) <= 0)
    return fail(Errc::internal, ssl_error("cannot sign the CSR"));
  BioPtr out(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509_REQ(out.get(), req.get()) != 1) return fail(Errc::internal, ssl_error("cannot encode the CSR"));
  return bio_text(out.get());
}

Result<CertAndKey> make_ca(const std::string& common_name, const std::string& organization, int days) {
  KeyPtr k(EVP_EC_gen("P-256"));
  if (!k) return fail(Errc::internal, ssl_error("cannot generate the CA key"));
  CertPtr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) return fail(Errc::internal, ssl_error("X509_new"));
  if (auto s = random_serial(cert.get()); !s) return std::move(s).error();
  if (auto s = set_validity(cert.get(), days); !s) return std::move(s).error();
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (auto s = add_name(name, "O", organization); !s) return std::move(s).error();
  if (auto s = add_name(name, "CN", common_name); !s) return std::move(s).error();
  if (X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), k.get()) != 1)
    return fail(Errc::internal, ssl_error("cannot fill the CA certificate"));
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                            std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
                            std::pair{NID_subject_key_identifier, "hash"},
                            std::pair{NID_authority_key_identifier, "keyid:always"}})
    if (auto s = add_ext(cert.get(), cert.get(), nid, value); !s) return std::move(s).error();
  if (X509_sign(cert.get(), k.get(), EVP_sha256()) <= 0) return fail(Errc::internal, ssl_error("cannot sign the CA"));
  CertAndKey out;
  auto c = cert_pem(cert.get());
  if (!c) return std::move(c).error();
  auto kp = key_pem(k.get());
  if (!kp) return std::move(kp).error();
  out.cert_pem = std::move(*c);
  out.key_pem = std::move(*kp);
  return out;
}

Result<std::string> sign_client_cert(const CertAndKey& ca, const ClientCertRequest& r) {
  auto ca_cert = read_x509(ca.cert_pem);
  if (!ca_cert) return fail(Errc::invalid_config, "CA certificate: " + ca_cert.error().message);
  auto ca_key = read_key(ca.key_pem);
  if (!ca_key) return fail(Errc::invalid_config, "CA key: " + ca_key.error().message);
  auto bio = mem_bio(r.csr_pem);
  ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) return fail(Errc::invalid_argument, ssl_error("not a PEM certificate signing request"), "csr");
  EVP_PKEY* pub = X509_REQ_get0_pubkey(req.get());
  if (!pub) return fail(Errc::invalid_argument, "the CSR carries no public key", "csr");
  if (X509_REQ_verify(req.get(), pub) != 1)
    return fail(Errc::invalid_argument, ssl_error("the CSR's signature does not verify"), "csr");
  if (auto s = check_request_key(pub); !s) return std::move(s).error();
  if (r.days < 1) return fail(Errc::invalid_argument, "certificate lifetime must be at least one day");

  CertPtr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) return fail(Errc::internal, ssl_error("X509_new"));
  if (auto s = random_serial(cert.get()); !s) return std::move(s).error();
  if (auto s = set_validity(cert.get(), r.days); !s) return std::move(s).error();
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (auto [field, value] : {std::pair{"O", &r.organization}, std::pair{"OU", &r.organization},
                              std::pair{"CN", &r.common_name}})
    if (auto s = add_name(name, field, *value); !s) return std::move(s).error();
  // A certificate never outlives the CA that vouches for it.
  if (ASN1_TIME_compare(X509_get0_notAfter(cert.get()), X509_get0_notAfter(ca_cert->get())) > 0 &&
      X509_set1_notAfter(cert.get(), X509_get0_notAfter(ca_cert->get())) != 1)
    return fail(Errc::internal, ssl_error("cannot clamp the validity"));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert->get())) != 1 ||
      X509_set_pubkey(cert.get(), pub) != 1)
    return fail(Errc::internal, ssl_error("cannot fill the certificate"));
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                            std::pair{NID_key_usage, "critical,digitalSignature,keyAgreement"},
                            std::pair{NID_ext_key_usage, "clientAuth"},
                            std::pair{NID_subject_key_identifier, "hash"},
                            std::pair{NID_authority_key_identifier, "keyid:always"}})
    if (auto s = add_ext(cert.get(), ca_cert->get(), nid, value); !s) return std::move(s).error();
  if (X509_sign(cert.get(), ca_key->get(), EVP_sha256()) <= 0)
    return fail(Errc::internal, ssl_error("cannot sign the certificate"));
  return cert_pem(cert.get());
}

Result<CertInfo> read_cert(const std::string& pem) {
  auto cert = read_x509(pem);
  if (!cert) return std::move(cert).error();
  X509* c = cert->get();
  CertInfo info;
  info.subject = name_text(X509_get_subject_name(c));
  info.issuer = name_text(X509_get_issuer_name(c));
  info.common_name = name_entry(X509_get_subject_name(c), NID_commonName);
  info.organization = name_entry(X509_get_subject_name(c), NID_organizationName);
  BnPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(c), nullptr));
  if (bn) {
    char* hex = BN_bn2hex(bn.get());
    info.serial_hex = hex;
    OPENSSL_free(hex);
    for (auto& ch : info.serial_hex) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    while (info.serial_hex.size() > 1 && info.serial_hex[0] == '0') info.serial_hex.erase(0, 1);
  }
  unsigned char* der = nullptr;
  int n = i2d_X509(c, &der);
  if (n <= 0) return fail(Errc::internal, ssl_error("cannot encode the certificate"));
  info.sha256_fingerprint = hash::sha256_hex(std::string_view(reinterpret_cast<char*>(der), static_cast<std::size_t>(n)));
  OPENSSL_free(der);
  info.not_before = to_unix(X509_get0_notBefore(c));
  info.not_after = to_unix(X509_get0_notAfter(c));
  return info;
}

Result<bool> key_matches_cert(const std::string& key, const std::string& cert) {
  auto k = read_key(key);
  if (!k) return std::move(k).error();
  auto c = read_x509(cert);
  if (!c) return std::move(c).error();
  const bool ok = X509_check_private_key(c->get(), k->get()) == 1;
  ERR_clear_error();
  return ok;
}

Status verify_issued_by(const std::string& cert, const std::string& ca, std::int64_t now) {
  auto c = read_x509(cert);
  if (!c) return std::move(c).error();
  auto a = read_x509(ca);
  if (!a) return std::move(a).error();
  StorePtr store(X509_STORE_new());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), a->get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), c->get(), nullptr) != 1)
    return fail(Errc::internal, ssl_error("cannot set up verification"));
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(now));
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return fail(Errc::forbidden, std::string("certificate does not verify: ") + X509_verify_cert_error_string(err));
  }
  return {};
}

}  // namespace lightbox::crypto
