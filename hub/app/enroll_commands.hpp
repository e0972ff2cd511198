#pragma once
// Enrollment in the composition root: the CA + tables + service that `serve` hands to the API and
// the TLS server, and the admin verbs enroll-token and list-certs.
#include <memory>
#include <string>

#include "common/config/reader.hpp"
#include "common/error/result.hpp"
#include "hub/app/cli.hpp"
#include "hub/app/hub_config.hpp"
#include "hub/enroll/authority.hpp"
#include "hub/enroll/repository.hpp"
#include "hub/enroll/service.hpp"

namespace lightbox::hub::app {

/// Everything enrollment needs at run time, owned together (the service refers to the others).
struct EnrollStack {
  enroll::Authority authority;
  std::unique_ptr<enroll::EnrollRepository> repo;
  std::unique_ptr<enroll::EnrollService> service;
};

/// Opens (creating on first use) the CA and the enrollment tables; nullptr when enroll.enabled is false.
Result<std::unique_ptr<EnrollStack>> open_enroll(const HubConfig& cfg);

/// `admin enroll-token | list-certs`, and the certificate half of `revoke-agent`. Returns the
/// exit code, or -1 when `verb` is not one of these.
int run_enroll_admin(const HubConfig& cfg, const Args& args, const std::string& verb);

/// `check`: a configured CA must load and match its key; the default one must be whole or absent
/// (serve creates it). Creates nothing.
void check_enroll(const HubConfig& cfg, config::Problems& problems);

/// Revokes every client certificate of `agent` (after the agents row was revoked); prints nothing.
Status revoke_agent_certificates(const HubConfig& cfg, const std::string& agent);

}  // namespace lightbox::hub::app
