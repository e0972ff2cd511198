#pragma once
// The one line `run` needs for certificate renewal (defined in enroll_command.cpp).
#include <memory>

#include "agent/app/config.hpp"
#include "agent/enroll/renewal.hpp"

namespace lightbox::agent::app {

/// The renewal thread for an enrolled agent (not started), or nullptr when it has no identity.
std::unique_ptr<enroll::Renewal> make_renewal(const AgentConfig& cfg, log::Logger& log);

}  // namespace lightbox::agent::app
