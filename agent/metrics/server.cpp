#include "agent/metrics/server.hpp"

#include <chrono>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

namespace lightbox::agent::metrics {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr std::string_view kCat = "agent.metrics";
constexpr std::size_t kMaxHead = 8192;

std::string reply(int status, std::string_view reason, std::string_view type, const std::string& body, bool head_only) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\nContent-Type: " +
                  std::string(type) + "\r\nContent-Length: " + std::to_string(body.size()) +
                  "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
  if (!head_only) r += body;
  return r;
}

/// One connection: read the head, answer, close. Owned by shared_ptr through its handlers.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Server::Render& render)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), render_(render) {}

  void begin() {
    auto self = shared_from_this();
    timer_.expires_after(std::chrono::seconds(5));
    timer_.async_wait([self](boost::system::error_code ec) {
      if (!ec) {
        boost::system::error_code ignored;
        self->socket_.close(ignored);
      }
    });
    asio::async_read_until(socket_, asio::dynamic_buffer(buf_, kMaxHead), "\r\n\r\n",
                           [self](boost::system::error_code ec, std::size_t n) {
                             if (ec) {
                               if (ec == asio::error::not_found) self->answer(reply(431, "Request Header Fields Too Large", "text/plain", "request head too large\n", false));
                               else self->timer_.cancel();
                               return;
                             }
                             self->answer(respond(self->buf_.substr(0, n), self->render_));
                           });
  }

 private:
  void answer(std::string text) {
    out_ = std::move(text);
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(out_), [self](boost::system::error_code, std::size_t) {
      boost::system::error_code ignored;
      self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
      self->socket_.close(ignored);
      self->timer_.cancel();
    });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  const Server::Render& render_;
  std::string buf_, out_;
};

}  // namespace

struct Server::Impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  Render render;
  log::Logger* log = nullptr;
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) std::make_shared<Session>(std::move(s), render)->begin();
      else log->warn(kCat, "accept failed", {{"error", ec.message()}});
      accept();
    });
  }
};

std::string respond(const std::string& head, const Server::Render& render) {
  const auto eol = head.find("\r\n");
  const std::string line = head.substr(0, eol);
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string::npos ? std::string::npos : line.find(' ', sp1 + 1);
  if (sp2 == std::string::npos) return reply(400, "Bad Request", "text/plain", "bad request line\n", false);
  const std::string method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (auto q = target.find('?'); q != std::string::npos) target.resize(q);
  const bool head_only = method == "HEAD";
  if (target != "/metrics") return reply(404, "Not Found", "text/plain", "only /metrics is served here\n", head_only);
  if (method != "GET" && !head_only) return reply(405, "Method Not Allowed", "text/plain", "use GET\n", false);
  return reply(200, "OK", "text/plain; version=0.0.4; charset=utf-8", render(), head_only);
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Server>> Server::start(const Endpoint& at, Render render, log::Logger& log) {
  auto impl = std::make_unique<Impl>();
  impl->render = std::move(render);
  impl->log = &log;
  boost::system::error_code ec;
  tcp::resolver resolver(impl->io);
  auto found = resolver.resolve(at.host, std::to_string(at.port), tcp::resolver::numeric_service, ec);
  if (ec || found.empty()) return fail(Errc::invalid_config, "metrics.listen: cannot resolve " + at.host + ": " + ec.message());
  const tcp::endpoint ep = found.begin()->endpoint();
  const std::string where = at.host + ":" + std::to_string(at.port);
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(16, ec);
  if (ec) return fail(Errc::io_error, "metrics.listen: cannot listen on " + where + ": " + ec.message());
  impl->accept();
  Impl* raw = impl.get();
  raw->thread = std::thread([raw] {
    for (;;) {
      try {
        raw->io.run();
        return;
      } catch (const std::exception& e) {  // a render that threw: log, keep serving
        raw->log->error(kCat, "metrics request failed", {{"error", e.what()}});
      }
    }
  });
  log.info(kCat, "metrics endpoint listening", {{"listen", at.host + ":" + std::to_string(raw->acceptor.local_endpoint().port())}});
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::~Server() {
  asio::post(impl_->io, [impl = impl_.get()] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
    impl->io.stop();
  });
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t Server::port() const {
  boost::system::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

}  // namespace lightbox::agent::metrics
