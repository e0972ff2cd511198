#include "agent/enroll/renewal.hpp"

#include "agent/enroll/identity.hpp"

namespace lightbox::agent::enroll {
namespace {
constexpr std::string_view kCat = "agent.enroll";
}

void Renewal::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      check_once(unix_now());
      lock.lock();
      cv_.wait_for(lock, opts_.check_every, [this] { return stop_; });
    }
  });
}

void Renewal::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Renewal::Outcome Renewal::check_once(std::int64_t now) {
  if (!identity_exists(opts_.identity_dir)) return Outcome::no_identity;
  auto cert = read_identity(opts_.identity_dir);
  if (!cert) {
    log_.error(kCat, "cannot read the client certificate", {{"dir", opts_.identity_dir}, {"error", cert.error().to_string()}});
    return Outcome::failed;
  }
  if (!needs_renewal(*cert, now)) return Outcome::not_due;
  log_.info(kCat, "client certificate is due for renewal",
            {{"subject", cert->subject}, {"not_after", cert->not_after}, {"serial", cert->serial_hex}});
  auto r = renew_identity(opts_.hub, opts_.agent, opts_.identity_dir);
  if (!r) {
    // A revoked agent is a person's decision: say so plainly; the next try is an hour away.
    log_.error(kCat, r.error().field == "revoked" ? "renewal refused: this agent was revoked" : "renewal failed",
               {{"error", r.error().to_string()}, {"not_after", cert->not_after}});
    return Outcome::failed;
  }
  log_.info(kCat, "client certificate renewed",
            {{"subject", r->cert.subject}, {"not_after", r->cert.not_after}, {"serial", r->cert.serial_hex}});
  return Outcome::renewed;
}

}  // namespace lightbox::agent::enroll
