#include "agent/sources/sftp/known_hosts.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/fsio/atomic_file.hpp"
#include "common/hash/sha256.hpp"

namespace lightbox::agent::sources::sftp {
namespace {

constexpr std::string_view kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::vector<std::string_view> split_ws(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

// A hashed host field: |1|base64(salt)|base64(HMAC-SHA1(salt, name)).
bool hashed_matches(std::string_view field, const std::string& name) {
  if (field.rfind("|1|", 0) != 0) return false;
  auto rest = field.substr(3);
  auto bar = rest.find('|');
  if (bar == std::string_view::npos) return false;
  auto salt = base64_decode(rest.substr(0, bar));
  auto want = base64_decode(rest.substr(bar + 1));
  if (!salt || !want || want->size() != 20) return false;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (!HMAC(EVP_sha1(), salt->data(), static_cast<int>(salt->size()),
            reinterpret_cast<const unsigned char*>(name.data()), name.size(), mac, &mac_len))
    return false;
  return mac_len == want->size() && std::equal(want->begin(), want->end(), mac, [](char a, unsigned char b) {
           return static_cast<unsigned char>(a) == b;
         });
}

// OpenSSH host patterns know only `*` and `?` ("[host]:port" brackets are literal).
bool wildcard_match(std::string_view pat, std::string_view s) {
  std::size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && (pat[p] == '?' || pat[p] == s[i])) {
      ++p;
      ++i;
    } else if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

// OpenSSH rules for a pattern list: a negated match rejects the line, else any match accepts.
bool patterns_match(std::string_view field, const std::string& name) {
  if (field.rfind("|1|", 0) == 0) return hashed_matches(field, name);
  bool hit = false;
  std::string n = lower(name);
  std::size_t start = 0;
  while (start <= field.size()) {
    auto comma = field.find(',', start);
    std::string pat(
        field.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    bool negated = !pat.empty() && pat[0] == '!';
    if (negated) pat.erase(0, 1);
    if (!pat.empty() && wildcard_match(lower(pat), n)) {
      if (negated) return false;
      hit = true;
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return hit;
}

std::uint32_t be32(std::string_view s, std::size_t at) {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

// Reads one SSH "string" (uint32 length + bytes) at `at`, advancing it.
std::optional<std::string_view> ssh_string(std::string_view s, std::size_t& at) {
  if (at + 4 > s.size()) return std::nullopt;
  std::uint32_t n = be32(s, at);
  if (n > s.size() - at - 4) return std::nullopt;
  auto out = s.substr(at + 4, n);
  at += 4 + n;
  return out;
}

}  // namespace

std::string known_hosts_name(const std::string& host, int port) {
  if (port == 22) return host;
  return "[" + host + "]:" + std::to_string(port);
}

std::vector<KnownHostKey> find_host_keys(std::string_view text, const std::string& name) {
  std::vector<KnownHostKey> out;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto f = split_ws(line);
    if (f.empty() || f[0][0] == '#') continue;
    bool revoked = false;
    if (f[0][0] == '@') {
      if (f[0] == "@revoked")
        revoked = true;
      else
        continue;  // @cert-authority: certificates are not used here
      f.erase(f.begin());
    }
    if (f.size() < 3) continue;
    if (!patterns_match(f[0], name)) continue;
    auto blob = base64_decode(f[2]);
    if (!blob || blob_key_type(*blob) != f[1]) continue;  // malformed line
    out.push_back(KnownHostKey{std::string(f[1]), std::move(*blob), revoked, line_no});
  }
  return out;
}

Result<std::vector<KnownHostKey>> load_host_keys(const std::string& file, const std::string& name) {
  auto text = fsio::read_file(file);
  if (!text)
    return fail(text.error().code, "cannot read known_hosts file " + file + ": " + text.error().message,
                "known_hosts");
  return find_host_keys(*text, name);
}

HostKeyVerdict verify_host_key(const std::vector<KnownHostKey>& pinned, std::string_view blob) {
  for (const auto& k : pinned)
    if (k.revoked && k.blob == blob) return HostKeyVerdict::revoked;
  bool any = false;
  for (const auto& k : pinned) {
    if (k.revoked) continue;
    any = true;
    if (k.blob == blob) return HostKeyVerdict::match;
  }
  return any ? HostKeyVerdict::changed : HostKeyVerdict::unknown;
}

std::string fingerprint_sha256(std::string_view blob) {
  hash::Sha256 h;
  h.update(blob);
  auto d = h.finish();
  return "SHA256:" +
         base64_encode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()), false);
}

std::string hostkey_preference(const std::vector<KnownHostKey>& pinned) {
  // What libssh2 1.10 can verify. RSA host keys need rsa-sha2 signatures that this libssh2
  // lacks, so "ssh-rsa" is offered last and only works against legacy servers.
  static constexpr std::string_view kUsable[] = {
      "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa",
      "ssh-dss"};
  std::string out;
  for (auto t : kUsable) {
    bool pinned_type = std::any_of(pinned.begin(), pinned.end(),
                                   [&](const KnownHostKey& k) { return !k.revoked && k.key_type == t; });
    if (!pinned_type) continue;
    if (!out.empty()) out += ',';
    out += t;
  }
  return out;
}

std::string base64_encode(std::string_view data, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t v = (static_cast<unsigned char>(data[i]) << 16) |
                      (static_cast<unsigned char>(data[i + 1]) << 8) |
                      static_cast<unsigned char>(data[i + 2]);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  std::size_t rest = data.size() - i;
  if (rest > 0) {
    std::uint32_t v = static_cast<unsigned char>(data[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(data[i + 1]) << 8;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    if (rest == 2) out += kB64[(v >> 6) & 63];
    if (pad) out.append(rest == 1 ? 2 : 1, '=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    auto p = kB64.find(c);
    if (p == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(p);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string blob_key_type(std::string_view blob) {
  std::size_t at = 0;
  auto t = ssh_string(blob, at);
  if (!t || t->empty() || t->size() > 64) return {};
  return std::string(*t);
}

std::string private_key_type(std::string_view file_text) {
  auto has = [&](std::string_view s) { return file_text.find(s) != std::string_view::npos; };
  if (has("-----BEGIN RSA PRIVATE KEY-----")) return "ssh-rsa";
  if (has("-----BEGIN EC PRIVATE KEY-----")) return "ecdsa";
  if (has("-----BEGIN DSA PRIVATE KEY-----")) return "ssh-dss";
  constexpr std::string_view kBegin = "-----BEGIN OPENSSH PRIVATE KEY-----";
  constexpr std::string_view kEnd = "-----END OPENSSH PRIVATE KEY-----";
  auto b = file_text.find(kBegin);
  auto e = file_text.find(kEnd);
  if (b == std::string_view::npos || e == std::string_view::npos || e < b) return {};
  std::string body;
  for (char c : file_text.substr(b + kBegin.size(), e - b - kBegin.size()))
    if (!std::isspace(static_cast<unsigned char>(c))) body += c;
  auto raw = base64_decode(body);
  constexpr std::string_view kMagic("openssh-key-v1\0", 15);
  if (!raw || raw->compare(0, kMagic.size(), kMagic) != 0) return {};
  // cipher, kdf name, kdf options, key count, then the first public key (never encrypted).
  std::size_t at = kMagic.size();
  for (int i = 0; i < 3; ++i)
    if (!ssh_string(*raw, at)) return {};
  if (at + 4 > raw->size()) return {};
  at += 4;
  auto pub = ssh_string(*raw, at);
  if (!pub) return {};
  std::string t = blob_key_type(*pub);
  if (t.rfind("ecdsa-sha2-", 0) == 0) return "ecdsa";
  return t;
}

}  // namespace lightbox::agent::sources::sftp
