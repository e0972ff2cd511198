// Our C-STORE SCP: DCMTK's DcmSCP on its own thread, bound to listen_address:port.
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/dulstruc.h>
#include <dcmtk/dcmnet/scp.h>

#include "agent/sources/dicom/dimse.hpp"
#include "agent/sources/dicom/dimse_internal.hpp"

namespace lightbox::agent::sources::dicom {
namespace {

constexpr std::string_view kCat = "agent.sources.dicom";

// IPv4 address of `address` (a literal or a name), or an error sentence.
Result<in_addr> resolve_v4(const std::string& address) {
  in_addr a{};
  if (::inet_pton(AF_INET, address.c_str(), &a) == 1) return a;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(address.c_str(), nullptr, &hints, &res);
  if (rc != 0 || res == nullptr)
    return fail(Errc::invalid_config,
                "listen_address " + address + " is not an IPv4 address or known host name", "listen_address");
  a = reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr;
  ::freeaddrinfo(res);
  return a;
}

// A listening socket on address:port, or why not.
Result<int> listen_socket(const std::string& address, std::int64_t port) {
  auto a = resolve_v4(address);
  if (!a) return a.error();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(Errc::io_error, std::string("cannot create a socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  sa.sin_addr = *a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, 64) != 0) {
    int err = errno;
    ::close(fd);
    std::string why = err == EADDRINUSE
                          ? "the port is in use (another program, or a running lightbox-agent, holds it)"
                      : err == EACCES ? "permission denied (ports below 1024 need privileges)"
                                      : std::strerror(err);
    return fail(err == EADDRINUSE ? Errc::conflict : Errc::io_error,
                "cannot listen on " + address + ":" + std::to_string(port) + ": " + why, "port");
  }
  return fd;
}

class Scp : public DcmSCP {
 public:
  Scp(const DicomConfig& cfg, Staging& staging, log::Logger& log, std::atomic<bool>& stop, int fd)
      : cfg_(cfg), staging_(staging), log_(log), stop_(stop), own_fd_(fd) {}
  ~Scp() override {
    if (own_fd_ >= 0) ::close(own_fd_);
  }

 protected:
  OFBool stopAfterCurrentAssociation() override { return stop_.load(); }
  OFBool stopAfterConnectionTimeout() override { return stop_.load(); }

  OFCondition waitForAssociationRQ(T_ASC_Network* network) override {
    if (own_fd_ >= 0 && network != nullptr) {
      // DCMTK 3.6.7 can only bind the wildcard address. It opened an ephemeral placeholder;
      // put our socket (bound to listen_address:port) in its place before the first accept.
      auto* key = reinterpret_cast<PRIVATE_NETWORKKEY*>(network->network);
      ::close(key->networkSpecific.TCP.listenSocket);
      key->networkSpecific.TCP.listenSocket = own_fd_;
      own_fd_ = -1;
    }
    return DcmSCP::waitForAssociationRQ(network);
  }

  void notifyAssociationRequest(const T_ASC_Parameters& params, DcmSCPActionType& action) override {
    calling_ = params.DULparams.callingAPTitle;
    called_ = params.DULparams.calledAPTitle;
    host_ = params.DULparams.callingPresentationAddress;
    if (auto colon = host_.rfind(':'); colon != std::string::npos && host_.find(':') == colon)
      host_.resize(colon);
    reason_ = refusal_reason(cfg_, calling_, called_, host_);
    if (!reason_) return;
    // A bare TCP probe (a port check) shows up with no AE titles at all: not worth a warning.
    const bool probe = calling_.empty() && called_.empty();
    const log::Level level = probe ? log::Level::debug : log::Level::warn;
    if (log_.enabled(level))
      log_.write(level, kCat, "association refused",
                 {{"source", cfg_.name}, {"calling_ae", calling_}, {"host", host_}, {"reason", *reason_}});
  }
  OFBool checkCalledAETitleAccepted(const OFString&) override {
    return !(reason_ && reason_->rfind("called", 0) == 0);
  }
  OFBool checkCallingAETitleAccepted(const OFString&) override { return !reason_; }

  OFCondition handleIncomingCommand(T_DIMSE_Message* msg, const DcmPresentationContextInfo& info) override {
    if (msg->CommandField != DIMSE_C_STORE_RQ) return DcmSCP::handleIncomingCommand(msg, info);
    T_DIMSE_C_StoreRQ& req = msg->msg.CStoreRQ;
    const std::string temp = staging_.temp_path();
    OFCondition c = receiveSTORERequest(req, info.presentationContextID, OFString(temp.c_str()));
    if (c.bad()) {
      ::unlink(temp.c_str());
      log_.warn(kCat, "C-STORE receive failed",
                {{"source", cfg_.name},
                 {"calling_ae", calling_},
                 {"sop_instance_uid", req.AffectedSOPInstanceUID},
                 {"error", c.text()}});
      return c;
    }
    Uint16 status = STATUS_Success;
    auto r = staging_.commit(temp, detail::read_study_uid(temp), req.AffectedSOPInstanceUID);
    if (!r) {
      status = STATUS_STORE_Refused_OutOfResources;
      log_.error(kCat, "cannot stage a received instance",
                 {{"source", cfg_.name}, {"error", r.error().to_string()}});
    } else {
      log_.debug(kCat, "received", {{"source", cfg_.name}, {"calling_ae", calling_}, {"path", *r}});
    }
    return sendSTOREResponse(info.presentationContextID, req, status);
  }

 private:
  const DicomConfig& cfg_;
  Staging& staging_;
  log::Logger& log_;
  std::atomic<bool>& stop_;
  int own_fd_;
  std::string calling_, called_, host_;
  std::optional<std::string> reason_;
};

}  // namespace

struct StoreScp::Impl {
  Impl(const DicomConfig& c, Staging& s, log::Logger& l) : cfg(c), staging(s), log(l) {}
  const DicomConfig& cfg;
  Staging& staging;
  log::Logger& log;
  std::atomic<bool> stop{false};
  std::atomic<bool> running{false};
  std::unique_ptr<Scp> scp;
  std::thread thread;
};

StoreScp::StoreScp(const DicomConfig& cfg, Staging& staging, log::Logger& log)
    : impl_(std::make_unique<Impl>(cfg, staging, log)) {}

StoreScp::~StoreScp() { stop(); }

bool StoreScp::running() const { return impl_->running.load(); }

Status StoreScp::start() {
  if (impl_->running) return {};
  init_dcmnet();
  const DicomConfig& cfg = impl_->cfg;
  auto fd = listen_socket(cfg.listen_address, cfg.port);
  if (!fd) return fd.error();
  impl_->stop = false;
  auto scp = std::make_unique<Scp>(cfg, impl_->staging, impl_->log, impl_->stop, *fd);
  scp->setAETitle(cfg.ae_title.c_str());
  scp->setPort(0);  // DCMTK's own (wildcard) socket is a placeholder on an ephemeral port
  scp->setConnectionBlockingMode(DUL_NOBLOCK);
  scp->setConnectionTimeout(1);  // wake up every second to see whether to stop
  scp->setDIMSEBlockingMode(DIMSE_NONBLOCKING);
  scp->setDIMSETimeout(static_cast<Uint32>(cfg.dimse_timeout_seconds));
  scp->setACSETimeout(static_cast<Uint32>(cfg.connect_timeout_seconds));
  scp->setHostLookupEnabled(OFFalse);
  scp->setMaxReceivePDULength(ASC_DEFAULTMAXPDU);
  scp->setProgressNotificationMode(OFFalse);
  OFList<OFString> ts;
  for (const auto& s : detail::storage_transfer_syntaxes()) ts.push_back(s.c_str());
  for (int i = 0; i < numberOfDcmAllStorageSOPClassUIDs; ++i)
    scp->addPresentationContext(dcmAllStorageSOPClassUIDs[i], ts);
  OFList<OFString> plain;
  for (const auto& s : detail::uncompressed_transfer_syntaxes()) plain.push_back(s.c_str());
  scp->addPresentationContext(UID_VerificationSOPClass, plain);
  OFCondition c = scp->openListenPort();
  if (c.bad())
    return fail(Errc::io_error, std::string("cannot start the DICOM listener: ") + c.text(), "port");
  impl_->scp = std::move(scp);
  impl_->running = true;
  impl_->thread = std::thread([impl = impl_.get()] {
    OFCondition r = impl->scp->acceptAssociations();
    if (r.bad() && !impl->stop)
      impl->log.error(kCat, "DICOM listener stopped", {{"source", impl->cfg.name}, {"error", r.text()}});
    impl->running = false;
  });
  impl_->log.info(kCat, "listening",
                  {{"source", cfg.name},
                   {"ae_title", cfg.ae_title},
                   {"address", cfg.listen_address},
                   {"port", cfg.port}});
  return {};
}

void StoreScp::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->stop = true;
  impl_->thread.join();
  impl_->scp.reset();
  impl_->running = false;
}

Status can_listen(const std::string& address, std::int64_t port) {
  auto fd = listen_socket(address, port);
  if (!fd) return fd.error();
  ::close(*fd);
  return {};
}

}  // namespace lightbox::agent::sources::dicom
