#include "hub/enroll/service.hpp"

#include <algorithm>
#include <ctime>

#include "common/clock/clock.hpp"
#include "common/crypto/pki.hpp"
#include "common/hash/sha256.hpp"

namespace lightbox::hub::enroll {
namespace {

bool is_agent_id(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace

std::string iso_utc(std::int64_t unix_seconds) { return clock::iso_utc(unix_seconds * 1000); }

nlohmann::json Enrolled::to_json() const {
  return {{"agent", agent},
          {"institution", institution},
          {"certificate", certificate},
          {"ca_certificate", ca_certificate},
          {"not_after", iso_utc(not_after)}};
}

Result<NewToken> EnrollService::create_token(const std::string& institution, const std::string& agent,
                                             std::int64_t ttl_hours, std::int64_t now) {
  if (ttl_hours < 1 || ttl_hours > 24 * 365)
    return fail(Errc::invalid_argument, "must be between 1 and 8760 hours", "ttl-hours");
  if (!agent.empty() && !is_agent_id(agent))
    return fail(Errc::invalid_argument, "must be 1-64 letters, digits, '-', '_' or '.'", "agent");
  auto hex = crypto::random_hex(32);
  if (!hex) return std::move(hex).error();
  NewToken t{std::string(kTokenPrefix) + *hex, institution, agent, now + ttl_hours * 3600};
  if (auto s = repo_.put_token(hash::sha256_hex(t.token), institution, agent, t.expires_at); !s)
    return std::move(s).error();
  return t;
}

Result<CertRecord> EnrollService::issue(const std::string& csr_pem, const std::string& agent,
                                        const std::string& institution, std::string& pem) {
  auto issued = ca_.issue(csr_pem, agent, institution);
  if (!issued) return std::move(issued).error();
  pem = std::move(issued->cert_pem);
  const auto& i = issued->info;
  return CertRecord{i.serial_hex, i.sha256_fingerprint, agent, institution, i.not_before, i.not_after, {}, {}, false};
}

Result<Enrolled> EnrollService::enroll(const std::string& token, const std::string& agent,
                                       const std::string& csr_pem, std::int64_t now) {
  if (token.empty()) return fail(Errc::unauthorized, "missing enrollment token", "token");
  const std::string token_hash = hash::sha256_hex(token);
  auto t = repo_.find_token(token_hash);
  if (!t) {
    if (t.error().code == Errc::not_found) return fail(Errc::unauthorized, "unknown enrollment token", "token");
    return std::move(t).error();
  }
  if (t->used_at)
    return fail(Errc::unauthorized,
                "enrollment token already used (by agent " + t->used_by + " at " + iso_utc(*t->used_at) + ")",
                "token");
  if (t->expires_at <= now)
    return fail(Errc::unauthorized, "enrollment token expired at " + iso_utc(t->expires_at), "token");
  const std::string id = agent.empty() ? t->agent : agent;
  if (!is_agent_id(id)) return fail(Errc::invalid_argument, "must be 1-64 letters, digits, '-', '_' or '.'", "agent");
  if (!t->agent.empty() && t->agent != id)
    return fail(Errc::forbidden, "this enrollment token is for agent " + t->agent + ", not " + id, "agent");
  std::string pem;
  auto rec = issue(csr_pem, id, t->institution, pem);
  if (!rec) return std::move(rec).error();
  if (auto s = repo_.redeem(token_hash, now, *rec); !s) return std::move(s).error();
  return Enrolled{id, t->institution, std::move(pem), ca_.cert_pem(), rec->not_after};
}

Result<Enrolled> EnrollService::renew(const std::string& fingerprint, const std::string& csr_pem, std::int64_t now) {
  if (fingerprint.empty())
    return fail(Errc::unauthorized, "renewal needs the current client certificate (mutual TLS)", "certificate");
  auto who = authenticate(fingerprint, now);
  if (!who) return std::move(who).error();
  std::string pem;
  auto rec = issue(csr_pem, who->agent, who->institution, pem);
  if (!rec) return std::move(rec).error();
  if (auto s = repo_.add_cert(*rec); !s) return std::move(s).error();
  return Enrolled{who->agent, who->institution, std::move(pem), ca_.cert_pem(), rec->not_after};
}

Result<index::Credential> EnrollService::authenticate(const std::string& fingerprint, std::int64_t now) {
  auto c = repo_.find_cert(fingerprint);
  if (!c) {
    if (c.error().code == Errc::not_found)
      return fail(Errc::unauthorized, "unknown client certificate (not issued by this hub's enrollment)",
                  "certificate");
    return std::move(c).error();
  }
  if (c->revoked_at || c->agent_revoked)
    return fail(Errc::forbidden,
                "agent " + c->agent + " was revoked by the hub administrator" +
                    (c->revoked_at ? " (certificate revoked at " + *c->revoked_at + ")" : std::string()) +
                    "; enroll again with a new token",
                std::string(kRevokedError));
  if (c->not_after <= now)
    return fail(Errc::unauthorized, "client certificate expired at " + iso_utc(c->not_after), "certificate");
  index::Credential cred;
  cred.agent = c->agent;
  cred.institution = c->institution;
  cred.role = index::Role::agent;
  return cred;
}

}  // namespace lightbox::hub::enroll
