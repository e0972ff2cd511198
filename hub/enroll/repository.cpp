#include "hub/enroll/repository.hpp"

#include "common/crypto/pki.hpp"
#include "hub/index/repository.hpp"
#include "hub/index/sqlite_schema.hpp"

namespace lightbox::hub::enroll {
namespace {

constexpr std::string_view kEnrollSchema = R"(
CREATE TABLE IF NOT EXISTS enroll_tokens (
  token_sha256 TEXT PRIMARY KEY,
  institution TEXT NOT NULL REFERENCES institutions(id),
  agent TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  used_by TEXT
);
CREATE TABLE IF NOT EXISTS agent_certs (
  serial TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL UNIQUE,
  agent TEXT NOT NULL,
  institution TEXT NOT NULL,
  not_before INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  issued_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE INDEX IF NOT EXISTS agent_certs_by_agent ON agent_certs(agent);
)";

constexpr std::string_view kCertColumns =
    "c.serial,c.fingerprint,c.agent,c.institution,c.not_before,c.not_after,c.issued_at,c.revoked_at,"
    "COALESCE(a.revoked,0)";

CertRecord read_cert(const sqlite::Stmt& st) {
  return CertRecord{st.text(0), st.text(1), st.text(2), st.text(3), st.int64(4), st.int64(5), st.text(6),
                    st.opt_text(7), st.int64(8) != 0};
}

}  // namespace

Result<std::unique_ptr<EnrollRepository>> EnrollRepository::open(const std::string& path) {
  auto db = sqlite::Db::open(path);
  if (!db) return std::move(db).error();
  // The base schema first: tokens reference institutions, certificates join agents.
  if (auto s = db->exec(index::kSchemaSql); !s) return std::move(s).error();
  if (auto s = db->exec(kEnrollSchema); !s) return std::move(s).error();
  return std::unique_ptr<EnrollRepository>(new EnrollRepository(std::move(*db)));
}

Status EnrollRepository::put_token(const std::string& token_sha256, const std::string& institution,
                                   const std::string& agent, std::int64_t expires_at) {
  std::lock_guard lock(mu_);
  auto inst = db_.prepare("SELECT 1 FROM institutions WHERE id=?");
  if (!inst) return std::move(inst).error();
  inst->bind(1, institution);
  auto found = inst->step();
  if (!found) return std::move(found).error();
  if (!*found)
    return fail(Errc::not_found, "unknown institution '" + institution + "' (create-institution first)",
                "institution");
  if (!agent.empty()) {
    auto other = db_.prepare("SELECT institution FROM agents WHERE id=?");
    if (!other) return std::move(other).error();
    other->bind(1, agent);
    auto row = other->step();
    if (!row) return std::move(row).error();
    if (*row && other->text(0) != institution)
      return fail(Errc::conflict, "agent '" + agent + "' belongs to institution '" + other->text(0) + "'", "agent");
  }
  auto st = db_.prepare(
      "INSERT INTO enroll_tokens(token_sha256,institution,agent,created_at,expires_at) VALUES(?,?,?,?,?)");
  if (!st) return std::move(st).error();
  st->bind(1, token_sha256).bind(2, institution).bind(3, agent).bind(4, index::utc_now_iso()).bind(5, expires_at);
  return st->run();
}

Result<TokenRecord> EnrollRepository::find_token(const std::string& token_sha256) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare(
      "SELECT institution,agent,expires_at,used_at,COALESCE(used_by,'') FROM enroll_tokens WHERE token_sha256=?");
  if (!st) return std::move(st).error();
  st->bind(1, token_sha256);
  auto row = st->step();
  if (!row) return std::move(row).error();
  if (!*row) return fail(Errc::not_found, "unknown enrollment token", "token");
  TokenRecord t{st->text(0), st->text(1), st->int64(2), std::nullopt, st->text(4)};
  if (!st->is_null(3)) t.used_at = st->int64(3);
  return t;
}

Status EnrollRepository::insert_cert(const CertRecord& c) {
  auto st = db_.prepare(
      "INSERT INTO agent_certs(serial,fingerprint,agent,institution,not_before,not_after,issued_at) "
      "VALUES(?,?,?,?,?,?,?)");
  if (!st) return std::move(st).error();
  st->bind(1, c.serial).bind(2, c.fingerprint).bind(3, c.agent).bind(4, c.institution).bind(5, c.not_before);
  st->bind(6, c.not_after).bind(7, c.issued_at.empty() ? index::utc_now_iso() : c.issued_at);
  return st->run();
}

Status EnrollRepository::redeem(const std::string& token_sha256, std::int64_t now, const CertRecord& cert) {
  std::lock_guard lock(mu_);
  sqlite::Txn txn(db_);
  if (!txn.begun()) return txn.begun();
  // Only an unused, unexpired token is taken; a concurrent redeem of the same token loses here.
  auto use = db_.prepare(
      "UPDATE enroll_tokens SET used_at=?, used_by=? WHERE token_sha256=? AND used_at IS NULL AND expires_at>?");
  if (!use) return std::move(use).error();
  use->bind(1, now).bind(2, cert.agent).bind(3, token_sha256).bind(4, now);
  if (auto s = use->run(); !s) return s;
  if (db_.changes() != 1) return fail(Errc::unauthorized, "enrollment token already used or expired", "token");

  auto agent = db_.prepare("SELECT institution,revoked FROM agents WHERE id=?");
  if (!agent) return std::move(agent).error();
  agent->bind(1, cert.agent);
  auto row = agent->step();
  if (!row) return std::move(row).error();
  // The agents row keeps a placeholder that no bearer token can hash to ("cert:" is not hex),
  // so an agent that enrolled has no bearer token unless the admin creates one.
  auto placeholder = crypto::random_hex(32);
  if (!placeholder) return std::move(placeholder).error();
  if (!*row) {
    auto ins = db_.prepare("INSERT INTO agents(id,institution,token_sha256,revoked,created_at) VALUES(?,?,?,0,?)");
    if (!ins) return std::move(ins).error();
    ins->bind(1, cert.agent).bind(2, cert.institution).bind(3, "cert:" + *placeholder).bind(4, index::utc_now_iso());
    if (auto s = ins->run(); !s) return s;
  } else if (agent->text(0) != cert.institution) {
    return fail(Errc::conflict, "agent '" + cert.agent + "' belongs to another institution", "agent");
  } else if (agent->int64(1) != 0) {
    // Re-admitted by a fresh token from the admin; its old bearer token stays dead.
    auto up = db_.prepare("UPDATE agents SET revoked=0, revoked_at=NULL, token_sha256=? WHERE id=?");
    if (!up) return std::move(up).error();
    up->bind(1, "cert:" + *placeholder).bind(2, cert.agent);
    if (auto s = up->run(); !s) return s;
    // Its certificates from before the revocation must stay dead once the agent row is live again.
    auto old = db_.prepare("UPDATE agent_certs SET revoked_at=? WHERE agent=? AND revoked_at IS NULL");
    if (!old) return std::move(old).error();
    old->bind(1, index::utc_now_iso()).bind(2, cert.agent);
    if (auto s = old->run(); !s) return s;
  }
  if (auto s = insert_cert(cert); !s) return s;
  return txn.commit();
}

Status EnrollRepository::add_cert(const CertRecord& cert) {
  std::lock_guard lock(mu_);
  return insert_cert(cert);
}

Result<CertRecord> EnrollRepository::find_cert(const std::string& fingerprint) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("SELECT " + std::string(kCertColumns) +
                        " FROM agent_certs c LEFT JOIN agents a ON a.id=c.agent WHERE c.fingerprint=?");
  if (!st) return std::move(st).error();
  st->bind(1, fingerprint);
  auto row = st->step();
  if (!row) return std::move(row).error();
  if (!*row) return fail(Errc::not_found, "unknown client certificate");
  return read_cert(*st);
}

Result<std::int64_t> EnrollRepository::revoke_certs(const std::string& agent) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("UPDATE agent_certs SET revoked_at=? WHERE agent=? AND revoked_at IS NULL");
  if (!st) return std::move(st).error();
  st->bind(1, index::utc_now_iso()).bind(2, agent);
  if (auto s = st->run(); !s) return std::move(s).error();
  return static_cast<std::int64_t>(db_.changes());
}

Result<std::vector<CertRecord>> EnrollRepository::list_certs() {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("SELECT " + std::string(kCertColumns) +
                        " FROM agent_certs c LEFT JOIN agents a ON a.id=c.agent ORDER BY c.issued_at DESC, c.agent");
  if (!st) return std::move(st).error();
  std::vector<CertRecord> out;
  for (;;) {
    auto row = st->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(read_cert(*st));
  }
  return out;
}

}  // namespace lightbox::hub::enroll
