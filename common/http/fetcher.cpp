#include "common/http/fetcher.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

namespace lightbox::http {
namespace {

struct Sink {
  CURL* curl = nullptr;
  int fd = -1;
  std::uint64_t bytes = 0;
  int err = 0;
  FetchResult* result = nullptr;
};

size_t on_body(char* p, size_t size, size_t n, void* ud) {
  auto* s = static_cast<Sink*>(ud);
  size_t len = size * n;
  long status = 0;
  curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200 || s->fd < 0) return len;  // error pages are not the resource
  size_t off = 0;
  while (off < len) {
    ssize_t w = ::write(s->fd, p + off, len - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      s->err = errno;
      return 0;
    }
    off += static_cast<size_t>(w);
  }
  s->bytes += len;
  return len;
}

std::string header_value(const std::string& line, std::string_view name) {
  if (line.size() <= name.size() || strncasecmp(line.c_str(), name.data(), name.size()) != 0 || line[name.size()] != ':')
    return {};
  std::string v = line.substr(name.size() + 1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.erase(0, 1);
  while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

size_t on_header(char* p, size_t size, size_t n, void* ud) {
  auto* s = static_cast<Sink*>(ud);
  std::string line(p, size * n);
  // A new status line (after a redirect or 100 Continue) starts a new set of headers.
  if (line.rfind("HTTP/", 0) == 0) {
    s->result->etag.clear();
    s->result->last_modified.clear();
  }
  if (auto v = header_value(line, "etag"); !v.empty()) s->result->etag = v;
  if (auto v = header_value(line, "last-modified"); !v.empty()) s->result->last_modified = v;
  return size * n;
}

int on_progress(void* ud, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* opts = static_cast<FetchOptions*>(ud);
  return (opts->cancelled && opts->cancelled()) ? 1 : 0;
}

std::string host_of(const std::string& url) {
  auto s = url.find("://");
  std::size_t b = s == std::string::npos ? 0 : s + 3;
  auto e = url.find('/', b);
  return url.substr(0, e == std::string::npos ? url.size() : e);
}

}  // namespace

std::optional<std::int64_t> parse_http_date(const std::string& text) {
  if (text.empty()) return std::nullopt;
  time_t t = curl_getdate(text.c_str(), nullptr);
  if (t == -1) return std::nullopt;
  return static_cast<std::int64_t>(t);
}

std::string format_http_date(std::int64_t epoch_seconds) {
  time_t t = static_cast<time_t>(epoch_seconds);
  struct tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

Fetcher::Fetcher(FetchOptions opts) : opts_(std::move(opts)), curl_(curl_easy_init()) {}

Fetcher::~Fetcher() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

void Fetcher::prepare(const std::string& url) {
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);  // keeps the connection cache and TLS session
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!opts_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, opts_.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, opts_.connect_timeout_seconds);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, opts_.timeout_seconds);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // the bytes on disk are the resource itself
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &opts_);
  if (!opts_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(c, CURLOPT_USERNAME, opts_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, opts_.password.reveal().c_str());
  } else if (!opts_.bearer.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BEARER));
    curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, opts_.bearer.reveal().c_str());
  }
}

Error Fetcher::error_for(int code, const std::string& detail, const std::string& url) const {
  auto rc = static_cast<CURLcode>(code);
  std::string tail = detail.empty() ? std::string(curl_easy_strerror(rc)) : detail;
  std::string host = host_of(url);
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST: return fail(Errc::network, "cannot connect to " + host + " (" + tail + ")", "url");
    case CURLE_OPERATION_TIMEDOUT: return fail(Errc::timeout, url + " timed out (" + tail + ")");
    case CURLE_PEER_FAILED_VERIFICATION:
      return fail(Errc::network, "the TLS certificate of " + host + " is not trusted or does not match the host (" + tail +
                                     "); check ca_file", "ca_file");
    case CURLE_SSL_CACERT_BADFILE:
      return fail(Errc::invalid_config, "cannot read ca_file " + opts_.ca_file + " (" + tail + ")", "ca_file");
    case CURLE_ABORTED_BY_CALLBACK: return fail(Errc::cancelled, "cancelled");
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return fail(Errc::invalid_argument, "bad URL " + url + " (" + tail + ")", "url");
    default: return fail(Errc::network, "GET " + url + " failed (" + tail + ")");
  }
}

Result<FetchResult> Fetcher::get_to_file(const std::string& url, const std::string& file_path,
                                         const std::string& if_none_match, const std::string& if_modified_since) {
  if (!curl_) return fail(Errc::internal, "curl_easy_init failed");
  int fd = ::open(file_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return fail(Errc::io_error, "cannot create " + file_path + ": " + std::strerror(errno));
  CURL* c = static_cast<CURL*>(curl_);
  prepare(url);
  curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  struct curl_slist* h = nullptr;
  if (!if_none_match.empty()) h = curl_slist_append(h, ("If-None-Match: " + if_none_match).c_str());
  if (!if_modified_since.empty()) h = curl_slist_append(h, ("If-Modified-Since: " + if_modified_since).c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  FetchResult res;
  Sink sink{c, fd, 0, 0, &res};
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode rc = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(h);
  int close_rc = ::close(fd);
  if (rc == CURLE_WRITE_ERROR && sink.err != 0)
    return fail(sink.err == ENOSPC ? Errc::storage_full : Errc::io_error,
                "cannot write " + file_path + ": " + std::strerror(sink.err));
  if (rc != CURLE_OK) return error_for(rc, errbuf, url);
  if (close_rc != 0) return fail(Errc::io_error, "cannot write " + file_path + ": " + std::strerror(errno));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res.status);
  res.bytes = sink.bytes;
  return res;
}

Result<long> Fetcher::remove(const std::string& url) {
  if (!curl_) return fail(Errc::internal, "curl_easy_init failed");
  CURL* c = static_cast<CURL*>(curl_);
  prepare(url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
  curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) return error_for(rc, errbuf, url);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

}  // namespace lightbox::http
