#include "hub/http/server.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <variant>
#include <vector>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace lightbox::hub::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kChunkBytes = 256 * 1024;
constexpr std::uint32_t kHeaderLimit = 16 * 1024;
// Largest body of a refused request that is read and dropped so the client gets the answer.
constexpr std::uint64_t kDrainLimit = 64ull << 20;

Status load_tls(ssl::context& ctx, const std::string& cert, const std::string& key) {
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  for (const auto& [path, key_name] : {std::pair{cert, "tls.cert_file"}, std::pair{key, "tls.key_file"}}) {
    if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
      std::fclose(f);
    } else {
      return fail(Errc::invalid_config, "cannot read " + path + ": " + std::strerror(errno), key_name);
    }
  }
  beast::error_code ec;
  ctx.use_certificate_chain_file(cert, ec);
  if (ec)
    return fail(Errc::invalid_config, "cannot load certificate " + cert + ": " + ec.message(),
                "tls.cert_file");
  ctx.use_private_key_file(key, ssl::context::pem, ec);
  if (ec)
    return fail(Errc::invalid_config, "cannot load private key " + key + ": " + ec.message(), "tls.key_file");
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
    return fail(Errc::invalid_config, "private key does not match the certificate", "tls.key_file");
  return {};
}

// An expired agent certificate still names its agent: let it through the handshake so the API
// answers with a clear 401 ("expired at ...") instead of a bare TLS alert. Nothing else is relaxed.
int verify_allow_expired(int ok, X509_STORE_CTX* ctx) {
  if (ok) return 1;
  return X509_STORE_CTX_get_error(ctx) == X509_V_ERR_CERT_HAS_EXPIRED && X509_STORE_CTX_get_error_depth(ctx) == 0;
}

// Asks every client for a certificate, optionally: one that does not verify against `ca_file`
// fails the handshake; none at all is fine (bearer tokens).
Status load_client_ca(ssl::context& ctx, const std::string& ca_file) {
  if (SSL_CTX_load_verify_locations(ctx.native_handle(), ca_file.c_str(), nullptr) != 1)
    return fail(Errc::invalid_config, "cannot load the client CA " + ca_file, "enroll");
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca_file.c_str());
  if (names) SSL_CTX_set_client_CA_list(ctx.native_handle(), names);
  SSL_CTX_set_verify(ctx.native_handle(), SSL_VERIFY_PEER, verify_allow_expired);
  // Needed for session resumption once peers are verified.
  static constexpr unsigned char kSessionContext[] = "lightbox-hub";
  SSL_CTX_set_session_id_context(ctx.native_handle(), kSessionContext, sizeof kSessionContext - 1);
  return {};
}

// Lowercase hex SHA-256 of the verified peer certificate's DER, and its serial; empty without one.
std::pair<std::string, std::string> peer_identity(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  const long verdict = SSL_get_verify_result(ssl);
  if (!cert || (verdict != X509_V_OK && verdict != X509_V_ERR_CERT_HAS_EXPIRED)) return {};
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string fp;
  for (unsigned int i = 0; i < n; ++i) {
    fp.push_back(kHex[md[i] >> 4]);
    fp.push_back(kHex[md[i] & 15]);
  }
  std::string serial;
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    char* hex = BN_bn2hex(bn);
    for (const char* p = hex; p && *p; ++p) serial.push_back(static_cast<char>(std::tolower(*p)));
    while (serial.size() > 1 && serial[0] == '0') serial.erase(0, 1);  // as crypto::read_cert
    OPENSSL_free(hex);
    BN_free(bn);
  }
  return {fp, serial};
}

bool is_timeout_or_eof(const beast::error_code& ec) {
  return ec == beast::error::timeout || ec == bhttp::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::operation_aborted || ec == net::ssl::error::stream_truncated ||
         ec == net::error::connection_reset;
}

}  // namespace

Status check_tls_files(const std::string& cert_file, const std::string& key_file) {
  ssl::context ctx(ssl::context::tls_server);
  return load_tls(ctx, cert_file, key_file);
}

class Session;

/// Listener state shared by the connections.

struct ServerCore {
  ServerOptions opts;
  Api& api;
  log::Logger& log;
  // Declared before the io_context: handlers destroyed with it (after a forced stop) end their
  // sessions, which touch only these.
  std::atomic<bool> stopping{false};
  std::atomic<bool> forced{false};
  std::atomic<int> active{0};
  std::mutex sessions_mu;
  std::set<Session*> sessions;

  net::io_context ioc;
  ssl::context tls{ssl::context::tls_server};
  net::strand<net::io_context::executor_type> strand{net::make_strand(ioc)};
  tcp::acceptor acceptor{strand};
  net::steady_timer grace{strand};
  net::signal_set signals{strand};
  std::unique_ptr<net::thread_pool> blocking;

  ServerCore(const ServerOptions& o, Api& a, log::Logger& l) : opts(o), api(a), log(l) {}
  void accept();
  void begin_stop();
  void session_ended(Session* s);
};

struct Server::Impl : ServerCore {
  using ServerCore::ServerCore;
};

/// One TLS connection: reads request heads, streams bodies to a BodyHandler, writes responses.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& s, ServerCore& srv) : stream_(std::move(s), srv.tls), srv_(srv), chunk_(kChunkBytes) {
    beast::error_code ec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  ~Session() { srv_.session_ended(this); }

  void start() {
    {
      std::lock_guard lock(srv_.sessions_mu);
      srv_.sessions.insert(this);
    }
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->handshake(); });
  }

  /// On shutdown: a connection waiting for its next request is closed right away.
  void close_if_idle() {
    auto self = weak_from_this().lock();
    if (!self) return;  // already ending
    net::post(stream_.get_executor(), [self] {
      if (self->idle_) beast::get_lowest_layer(self->stream_).cancel();
    });
  }

 private:
  void expire(int seconds) { beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(seconds)); }

  void handshake() {
    expire(srv_.opts.header_timeout_seconds);
    stream_.async_handshake(ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
      if (ec) {
        self->srv_.log.debug("hub.http", "TLS handshake failed",
                             {{"remote", self->remote_}, {"error", ec.message()}});
        return;
      }
      std::tie(self->peer_sha256_, self->peer_serial_) = peer_identity(self->stream_.native_handle());
      self->wait_for_request();
    });
  }

  // Waits for the first byte of the next request under the idle timeout, then reads the head
  // under the header timeout (so a slow head cannot hold a connection for the idle time).
  void wait_for_request() {
    if (srv_.stopping) return close();
    if (buffer_.size() > 0) return read_header();
    idle_ = true;
    expire(srv_.opts.idle_timeout_seconds);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->idle_ = false;
                              self->buffer_.commit(n);
                              if (ec) return self->close();
                              self->read_header();
                            });
  }

  void read_header() {
    parser_.emplace();
    parser_->body_limit(srv_.opts.max_body_bytes);
    parser_->header_limit(kHeaderLimit);
    expire(srv_.opts.header_timeout_seconds);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    started_ = Clock::now();
    const auto& msg = parser_->get();
    req_ = Request{};
    // Filled even on error: a head rejected for its Content-Length was parsed up to that point.
    req_.method = std::string(msg.method_string());
    req_.target = std::string(msg.target());
    for (const auto& f : msg) req_.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    if (auto cl = parser_->content_length()) req_.content_length = *cl;
    req_.peer_cert_sha256 = peer_sha256_;
    req_.peer_cert_serial = peer_serial_;
    if (ec) {
      if (is_timeout_or_eof(ec)) return close();
      if (ec == bhttp::error::body_limit)  // Content-Length already over the limit
        return respond(Response::error(fail(Errc::payload_too_large,
                                            "body exceeds the limit of " +
                                                std::to_string(srv_.opts.max_body_bytes) + " bytes")),
                       true);
      return respond(Response::error(fail(Errc::invalid_argument, "malformed request: " + ec.message())),
                     true);
    }
    keep_alive_ = msg.keep_alive();
    expect_continue_ = beast::iequals(msg[bhttp::field::expect], "100-continue");
    // Routing may touch the index (token lookup, queries): keep it off the io threads.
    blocking([self = shared_from_this()] {
      auto d = self->srv_.api.begin(self->req_);
      return [self, d = std::make_shared<Dispatch>(std::move(d))] { self->on_dispatch(std::move(*d)); };
    });
  }

  void on_dispatch(Dispatch d) {
    if (d.response) {
      // A refusal before the body (401, 403, 400...). A client that did not ask with
      // "Expect: 100-continue" is already streaming the body; closing on it with unread bytes
      // makes the kernel send RST, and the client sees a broken pipe instead of our answer.
      // So a body of reasonable size is read and dropped first, and the connection stays usable.
      const bool drainable = !req_.content_length || *req_.content_length <= kDrainLimit;
      if (!parser_->is_done() && !expect_continue_ && drainable) {
        refusal_ = std::move(*d.response);
        return read_body();
      }
      return respond(std::move(*d.response), false);
    }
    body_ = std::move(d.body);
    if (expect_continue_ && !parser_->is_done()) {
      auto res = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      expire(srv_.opts.idle_timeout_seconds);
      return bhttp::async_write(stream_, *res,
                                [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                                  if (ec) return self->close();
                                  self->read_body();
                                });
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done() && refusal_) {
      Response r = std::move(*refusal_);
      refusal_.reset();
      return respond(std::move(r), false);
    }
    if (parser_->is_done()) return finish_body();
    auto& b = parser_->get().body();
    b.data = chunk_.data();
    b.size = chunk_.size();
    expire(srv_.opts.idle_timeout_seconds);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
  }

  void on_body(beast::error_code ec) {
    if (ec == bhttp::error::need_buffer) ec = {};
    std::size_t got = chunk_.size() - parser_->get().body().size;
    if (ec) {
      body_.reset();
      if (ec == bhttp::error::body_limit)
        return respond(Response::error(fail(Errc::payload_too_large,
                                            "body exceeds the limit of " +
                                                std::to_string(srv_.opts.max_body_bytes) + " bytes")),
                       true);
      srv_.log.debug("hub.http", "request body aborted", {{"remote", remote_}, {"error", ec.message()}});
      return close();
    }
    if (got > 0 && body_) {  // no handler while draining a refused request's body
      if (auto s = body_->write(chunk_.data(), got); !s) {
        body_.reset();
        return respond(Response::error(s.error()), true);
      }
    }
    read_body();
  }

  void finish_body() {
    blocking([self = shared_from_this()] {
      auto r = std::make_shared<Response>(self->body_->finish());
      self->body_.reset();
      return [self, r] { self->respond(std::move(*r), false); };
    });
  }

  // Runs `work` on the blocking pool; the callable it returns runs back on this connection's strand.
  template <class Work>
  void blocking(Work work) {
    // The tracked executor keeps io_context::run() alive while the work is away from it.
    auto back = net::prefer(stream_.get_executor(), net::execution::outstanding_work.tracked);
    net::post(*srv_.blocking, [this, work = std::move(work), back = std::move(back)]() mutable {
      std::function<void()> then;
      try {
        then = work();
      } catch (const std::exception& e) {
        srv_.log.error("hub.http", "unhandled exception", {{"what", e.what()}});
        auto self = shared_from_this();
        then = [self] { self->respond(Response::error(fail(Errc::internal, "internal error")), true); };
      }
      net::post(back, std::move(then));
    });
  }

  void respond(Response r, bool force_close) {
    bool keep = keep_alive_ && !force_close && !srv_.stopping && parser_ && parser_->is_done();
    int status = r.status;
    if (!r.file_path.empty()) {
      bhttp::file_body::value_type file;
      beast::error_code ec;
      file.open(r.file_path.c_str(), beast::file_mode::scan, ec);
      if (ec) {
        srv_.log.error("hub.http", "cannot open object file",
                       {{"path", r.file_path}, {"error", ec.message()}});
        return respond(Response::error(fail(Errc::io_error, "object bytes unavailable")), force_close);
      }
      auto res =
          std::make_shared<bhttp::response<bhttp::file_body>>(bhttp::status(r.status), 11, std::move(file));
      res->set(bhttp::field::content_type, r.content_type);
      for (const auto& [k, v] : r.headers) res->set(k, v);
      return send(res, keep, status);
    }
    auto res =
        std::make_shared<bhttp::response<bhttp::string_body>>(bhttp::status(r.status), 11, std::move(r.body));
    res->set(bhttp::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res->set(k, v);
    send(res, keep, status);
  }

  template <class Msg>
  void send(std::shared_ptr<Msg> res, bool keep, int status) {
    res->set(bhttp::field::server, "lightbox-hub");
    res->keep_alive(keep);
    res->prepare_payload();
    expire(srv_.opts.idle_timeout_seconds);
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res, keep, status](beast::error_code ec, std::size_t n) {
                         self->log_request(status, n, ec);
                         if (ec || !keep) return self->close();
                         self->wait_for_request();
                       });
  }

  void log_request(int status, std::size_t bytes, const beast::error_code& ec) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_).count();
    nlohmann::json f{{"method", req_.method},
                     {"path", std::string(req_.path())},
                     {"status", status},
                     {"bytes", bytes},
                     {"ms", ms},
                     {"remote", remote_}};
    if (ec) f["write_error"] = ec.message();
    if (!req_.peer_cert_serial.empty()) f["client_cert_serial"] = req_.peer_cert_serial;
    if (status >= 400 || ec)
      srv_.log.warn("hub.http", "request", std::move(f));
    else
      srv_.log.debug("hub.http", "request", std::move(f));
  }

  void close() {
    expire(5);
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  beast::ssl_stream<beast::tcp_stream> stream_;
  ServerCore& srv_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> parser_;
  std::vector<char> chunk_;
  std::unique_ptr<BodyHandler> body_;
  std::optional<Response> refusal_;  // answer to send once the refused request's body is drained
  Request req_;
  std::string remote_;
  std::string peer_sha256_;  // verified client certificate, if any (set after the handshake)
  std::string peer_serial_;
  Clock::time_point started_ = Clock::now();
  bool keep_alive_ = false;
  bool expect_continue_ = false;
  bool idle_ = false;
};

void ServerCore::accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || stopping) return;
      log.warn("hub.http", "accept failed", {{"error", ec.message()}});
      return accept();
    }
    if (stopping) return;
    if (active.load() >= opts.max_connections) {
      log.warn("hub.http", "connection refused: max_connections reached", {{"max", opts.max_connections}});
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      ++active;
      std::make_shared<Session>(std::move(socket), *this)->start();
    }
    accept();
  });
}

void ServerCore::begin_stop() {
  if (stopping.exchange(true)) return;
  if (opts.on_stop) opts.on_stop();
  log.info("hub.http", "stopping: draining connections",
           {{"active", active.load()}, {"grace_seconds", opts.shutdown_grace_seconds}});
  beast::error_code ec;
  acceptor.close(ec);
  signals.cancel(ec);
  {
    std::lock_guard lock(sessions_mu);
    for (auto* s : sessions) s->close_if_idle();
  }
  if (active.load() == 0) return;
  grace.expires_after(std::chrono::seconds(opts.shutdown_grace_seconds));
  grace.async_wait([this](beast::error_code ec) {
    if (ec) return;  // cancelled: every connection ended in time
    log.warn("hub.http", "grace period over: closing remaining connections", {{"active", active.load()}});
    forced = true;
    ioc.stop();
  });
}

void ServerCore::session_ended(Session* s) {
  {
    std::lock_guard lock(sessions_mu);
    sessions.erase(s);
  }
  if (--active == 0 && stopping && !forced) net::post(strand, [this] { grace.cancel(); });
}

Server::Server(const ServerOptions& opts, Api& api, log::Logger& log)
    : impl_(std::make_unique<Impl>(opts, api, log)) {}

Server::~Server() = default;

Status Server::start() {
  auto& m = *impl_;
  if (auto s = load_tls(m.tls, m.opts.cert_file, m.opts.key_file); !s) return s;
  if (!m.opts.client_ca_file.empty())
    if (auto s = load_client_ca(m.tls, m.opts.client_ca_file); !s) return s;
  beast::error_code ec;
  auto addr = net::ip::make_address(m.opts.address, ec);
  if (ec) return fail(Errc::invalid_config, "not an IP address: " + m.opts.address, "listen.address");
  tcp::endpoint ep(addr, m.opts.port);
  m.acceptor.open(ep.protocol(), ec);
  if (!ec) m.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) m.acceptor.bind(ep, ec);
  if (!ec) m.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return fail(
        Errc::io_error,
        "cannot listen on " + m.opts.address + ":" + std::to_string(m.opts.port) + ": " + ec.message(),
        "listen");
  return {};
}

std::uint16_t Server::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void Server::run(bool handle_signals) {
  auto& m = *impl_;
  m.blocking = std::make_unique<net::thread_pool>(std::max(1, m.opts.blocking_threads));
  if (handle_signals) {
    m.signals.add(SIGINT);
    m.signals.add(SIGTERM);
    m.signals.async_wait([&m](beast::error_code ec, int sig) {
      if (ec) return;
      m.log.info("hub.http", "signal received", {{"signal", sig}});
      m.begin_stop();
    });
  }
  net::post(m.strand, [&m] { m.accept(); });
  m.log.info("hub.http", "listening",
             {{"address", m.opts.address}, {"port", port()}, {"threads", m.opts.threads}});
  // A handler that throws must not take the process down: log it and keep serving.
  auto serve = [&m] {
    for (;;) {
      try {
        m.ioc.run();
        return;
      } catch (const std::exception& e) {
        m.log.error("hub.http", "unhandled exception in io thread", {{"what", e.what()}});
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < std::max(1, m.opts.threads); ++i) threads.emplace_back(serve);
  serve();
  for (auto& t : threads) t.join();
  m.blocking->join();
  m.log.info("hub.http", "stopped", {});
}

void Server::stop() {
  net::post(impl_->strand, [m = impl_.get()] { m->begin_stop(); });
}

}  // namespace lightbox::hub::http
