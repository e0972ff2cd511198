#include "common/http/client.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

namespace lightbox::http {
namespace {

struct Capture {
  Response* resp;
};

size_t on_body(char* p, size_t size, size_t n, void* ud) {
  auto* c = static_cast<Capture*>(ud);
  size_t len = size * n;
  std::size_t room = Client::kMaxBody > c->resp->body.size() ? Client::kMaxBody - c->resp->body.size() : 0;
  c->resp->body.append(p, std::min(len, room));
  return len;
}

size_t on_header(char* p, size_t size, size_t n, void* ud) {
  auto* c = static_cast<Capture*>(ud);
  size_t len = size * n;
  std::string line(p, len);
  constexpr std::string_view kRetry = "retry-after:";
  if (line.size() > kRetry.size() && strncasecmp(line.c_str(), kRetry.data(), kRetry.size()) == 0) {
    std::string v = line.substr(kRetry.size());
    char* end = nullptr;
    long long secs = std::strtoll(v.c_str(), &end, 10);
    if (end != v.c_str() && secs >= 0) c->resp->retry_after_seconds = secs;
  }
  return len;
}

int on_progress(void* ud, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* opts = static_cast<ClientOptions*>(ud);
  return (opts->cancelled && opts->cancelled()) ? 1 : 0;
}

struct BodySource {
  int fd = -1;
  const std::function<bool(std::size_t)>* hook = nullptr;  // per-request read hook, may be empty
};

size_t on_read(char* buf, size_t size, size_t n, void* ud) {
  auto* src = static_cast<BodySource*>(ud);
  const bool hooked = src->hook && *src->hook;
  const size_t want = hooked ? std::min(size * n, Client::kReadChunk) : size * n;
  for (;;) {
    ssize_t r = ::read(src->fd, buf, want);
    if (r >= 0) {
      if (r > 0 && hooked && !(*src->hook)(static_cast<std::size_t>(r))) return CURL_READFUNC_ABORT;
      return static_cast<size_t>(r);
    }
    if (errno != EINTR) return CURL_READFUNC_ABORT;
  }
}

Error curl_error(CURLcode rc, const char* detail) {
  // curl's error buffer is the more specific sentence; its generic text is the fallback.
  std::string msg = (detail && *detail) ? std::string(detail) : std::string(curl_easy_strerror(rc));
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return fail(Errc::timeout, msg);
    case CURLE_ABORTED_BY_CALLBACK: return fail(Errc::cancelled, "cancelled");
    case CURLE_READ_ERROR: return fail(Errc::io_error, msg);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return fail(Errc::invalid_argument, msg);
    default: return fail(Errc::network, msg);
  }
}

}  // namespace

GlobalInit::GlobalInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
GlobalInit::~GlobalInit() { curl_global_cleanup(); }

std::string header_safe(const std::string& v) {
  std::string out;
  static const char* kHex = "0123456789ABCDEF";
  for (unsigned char c : v) {
    if (c < 0x20 || c == 0x7f || c == '%') {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

Client::Client(ClientOptions opts) : opts_(std::move(opts)), curl_(curl_easy_init()) {
  while (!opts_.base_url.empty() && opts_.base_url.back() == '/') opts_.base_url.pop_back();
}

Client::~Client() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

void* Client::prepare(const std::string& path, bool authenticate,
                      const std::vector<std::pair<std::string, std::string>>& extra, bool ask_first) {
  CURL* c = static_cast<CURL*>(curl_);
  // reset keeps the connection cache, DNS cache and TLS session: connection reuse survives.
  curl_easy_reset(c);
  // With no base_url the path is a whole URL (alert channels, enrollment against a given hub).
  std::string url = opts_.base_url.empty() ? path : opts_.base_url + path;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(c, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!opts_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, opts_.ca_file.c_str());
  if (!opts_.client_cert_file.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, opts_.client_cert_file.c_str());
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(c, CURLOPT_SSLKEY, opts_.client_key_file.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  }
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, opts_.connect_timeout_seconds);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, opts_.timeout_seconds);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &opts_);
  struct curl_slist* h = nullptr;
  // An empty Expect: stops curl from waiting up to 1 s for "100 Continue" on every PUT.
  h = curl_slist_append(h, ask_first ? "Expect: 100-continue" : "Expect:");
  if (ask_first) curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 2000L);
  if (authenticate && !opts_.token.empty())
    h = curl_slist_append(h, ("Authorization: Bearer " + opts_.token.reveal()).c_str());
  for (const auto& [k, v] : opts_.headers) h = curl_slist_append(h, (k + ": " + header_safe(v)).c_str());
  for (const auto& [k, v] : extra) h = curl_slist_append(h, (k + ": " + header_safe(v)).c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  return h;
}

Result<Response> Client::perform(void* header_list) {
  CURL* c = static_cast<CURL*>(curl_);
  Response resp;
  Capture cap{&resp};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &cap);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &cap);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(static_cast<curl_slist*>(header_list));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  if (rc != CURLE_OK) return curl_error(rc, errbuf);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
  return resp;
}

Result<Response> Client::get(const std::string& path, bool authenticate) {
  if (!curl_) return fail(Errc::internal, "curl_easy_init failed");
  void* h = prepare(path, authenticate, {});
  curl_easy_setopt(static_cast<CURL*>(curl_), CURLOPT_HTTPGET, 1L);
  return perform(h);
}

Result<Response> Client::send(const std::string& method, const std::string& path, const std::string& body,
                              const std::vector<std::pair<std::string, std::string>>& headers, bool authenticate) {
  if (!curl_) return fail(Errc::internal, "curl_easy_init failed");
  CURL* c = static_cast<CURL*>(curl_);
  auto extra = headers;
  bool typed = false;
  for (const auto& h : extra) typed = typed || strcasecmp(h.first.c_str(), "Content-Type") == 0;
  if (!typed && !body.empty()) extra.emplace_back("Content-Type", "application/json");
  void* h = prepare(path, authenticate, extra);
  if (method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else {
    // POSTFIELDS with an explicit size sends `body` as is (binary-safe, no strlen); the
    // custom request line then carries PUT, PATCH or DELETE where asked.
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    if (method != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  return perform(h);
}

Result<Response> Client::put_file(const std::string& path, const std::string& file_path,
                                  const std::vector<std::pair<std::string, std::string>>& headers,
                                  bool ask_first, const std::function<bool(std::size_t)>& on_read_hook) {
  return send_file(/*post=*/false, path, file_path, headers, ask_first, "application/octet-stream", on_read_hook);
}

Result<Response> Client::post_file(const std::string& path, const std::string& file_path,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   const std::function<bool(std::size_t)>& on_read_hook) {
  return send_file(/*post=*/true, path, file_path, headers, false, "application/json", on_read_hook);
}

Result<Response> Client::send_file(bool post, const std::string& path, const std::string& file_path,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   bool ask_first, const char* default_type,
                                   const std::function<bool(std::size_t)>& on_read_hook) {
  if (!curl_) return fail(Errc::internal, "curl_easy_init failed");
  int fd = ::open(file_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(Errc::io_error, "cannot open " + file_path + ": " + std::strerror(errno));
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return fail(Errc::io_error, "cannot stat " + file_path + ": " + std::strerror(e));
  }
  CURL* c = static_cast<CURL*>(curl_);
  auto extra = headers;
  bool typed = false;
  for (const auto& h : extra) typed = typed || strcasecmp(h.first.c_str(), "Content-Type") == 0;
  if (!typed) extra.emplace_back("Content-Type", default_type);
  void* h = prepare(path, true, extra, ask_first);
  // The body streams from the file through on_read either way; only the method and how its
  // length is announced differ.
  curl_easy_setopt(c, post ? CURLOPT_POST : CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
  BodySource body{fd, &on_read_hook};
  curl_easy_setopt(c, CURLOPT_READDATA, &body);
  curl_easy_setopt(c, post ? CURLOPT_POSTFIELDSIZE_LARGE : CURLOPT_INFILESIZE_LARGE,
                   static_cast<curl_off_t>(st.st_size));
  auto r = perform(h);
  ::close(fd);
  return r;
}

}  // namespace lightbox::http
