#include "agent/metrics/listen.hpp"

#include <algorithm>
#include <cctype>

#include <boost/asio/ip/address.hpp>

namespace lightbox::agent::metrics {

Result<Endpoint> parse_listen(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return fail(Errc::invalid_argument, "must be HOST:PORT, e.g. \"127.0.0.1:9464\" (got '" + text + "')");
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(), [](unsigned char c) { return std::isdigit(c); }))
    return fail(Errc::invalid_argument, "port must be a number 0-65535 (got '" + port_text + "')");
  const long port = std::stol(port_text);
  if (port > 65535) return fail(Errc::invalid_argument, "port must be a number 0-65535 (got '" + port_text + "')");
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  bool loopback = host == "localhost";
  if (!loopback) {
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(host, ec);
    loopback = !ec && addr.is_loopback();
    if (ec)
      return fail(Errc::invalid_argument, "host must be a loopback IP address or localhost (got '" + host + "')");
  }
  if (!loopback)
    return fail(Errc::invalid_argument, "must be a loopback address (127.0.0.1, [::1] or localhost), got '" + host +
                                            "': the metrics port has no authentication");
  return Endpoint{host, static_cast<std::uint16_t>(port)};
}

}  // namespace lightbox::agent::metrics
