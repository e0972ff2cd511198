#include "agent/sources/sftp/known_hosts.hpp"

#include <doctest/doctest.h>

using namespace lightbox::agent::sources::sftp;

namespace {

// Public keys made with ssh-keygen for these tests; fingerprints as `ssh-keygen -lf` printed them.
constexpr const char* kEd = "AAAAC3NzaC1lZDI1NTE5AAAAIBUyS4WIJEq9g8phJ5/9LIL4lvnhvvWV2J5bvK8yfwbi";
constexpr const char* kEdFp = "SHA256:XQFQYCFm2lSFpYZBTS26XzocjMTfv7J5kEY5MXzr6fE";
constexpr const char* kEd2 = "AAAAC3NzaC1lZDI1NTE5AAAAIFcK/BHvM3wdAJVqEEAPoorzQhr7csUYxo2ejW3abC0l";
constexpr const char* kEd2Fp = "SHA256:J0/AYiXMdHInkjkx5NWx2/HMzpClPTekZS1LFfKO+nM";
constexpr const char* kEc =
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBDXjxx92IS7AxL0rZWwH3TSIkxJV8Os7a9U7WxcyOQPTCc+"
    "r3cSWeWmdZT2EyzJzFNHKqDAfYcr/2pYmgcbG/7U=";
constexpr const char* kEcFp = "SHA256:oobN7aaBA6ZSNXEvstsqoY2Gfl3EoOsDk7Ho0KicHt0";
constexpr const char* kRsa =
    "AAAAB3NzaC1yc2EAAAADAQABAAAAgQDGS2ng27EBbbaYzBINCyUXoZc5YLzSXlQNUI2vkouiJpPzhS4t06o/UH4zvM+tUwwklU3nF/7/"
    "xB88sKHhDQWhmQVtKUntYHUmLZs5XJmv8QGaEqDFjFFf5eL9UwF8hr2D0LO+uQv99v6mzZoCvZoFFQP8JfqWkXkjdL4ajHH3iw==";
constexpr const char* kRsaFp = "SHA256:dqn/vT/MQYy6CKe7HZQon+19IjbzwQi2v6Liqe+bn6w";
// `ssh-keygen -H` of "[127.0.0.1]:2222 ssh-ed25519 <kEd>".
constexpr const char* kHashedEd =
    "|1|vEhzh52pXcZgRKQlXtfLADYJZFQ=|3Mi1rdDYi0rFRqZE2f4Ds/92psE= ssh-ed25519 "
    "AAAAC3NzaC1lZDI1NTE5AAAAIBUyS4WIJEq9g8phJ5/9LIL4lvnhvvWV2J5bvK8yfwbi";

std::string blob(const char* b64) { return base64_decode(b64).value(); }
std::string line(const std::string& host, const std::string& type, const char* key) {
  return host + " " + type + " " + key + "\n";
}

std::string be32(std::uint32_t n) {
  return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
          static_cast<char>(n)};
}
std::string sshstr(const std::string& s) { return be32(static_cast<std::uint32_t>(s.size())) + s; }

// The unencrypted header of an OpenSSH private key file holding `pub` (no private part needed).
std::string openssh_private(const std::string& pub) {
  std::string raw = std::string("openssh-key-v1\0", 15) + sshstr("aes256-ctr") + sshstr("bcrypt") +
                    sshstr("salt") + be32(1) + sshstr(pub) + sshstr("(encrypted private part)");
  return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + base64_encode(raw) +
         "\n-----END OPENSSH PRIVATE KEY-----\n";
}

}  // namespace

TEST_CASE("known_hosts_name uses [host]:port except on port 22") {
  CHECK(known_hosts_name("pacs.example", 22) == "pacs.example");
  CHECK(known_hosts_name("127.0.0.1", 2222) == "[127.0.0.1]:2222");
}

TEST_CASE("fingerprints are printed like OpenSSH (SHA256:, unpadded base64)") {
  CHECK(fingerprint_sha256(blob(kEd)) == kEdFp);
  CHECK(fingerprint_sha256(blob(kEc)) == kEcFp);
  CHECK(fingerprint_sha256(blob(kRsa)) == kRsaFp);
}

TEST_CASE("base64 round-trips and rejects junk") {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    CHECK(base64_decode(base64_encode(s)).value() == s);
    CHECK(base64_decode(base64_encode(s, false)).value() == s);
  }
  CHECK(base64_encode("ab") == "YWI=");
  CHECK(base64_encode("ab", false) == "YWI");
  CHECK_FALSE(base64_decode("YW$=").has_value());
  CHECK_FALSE(base64_decode("Y").has_value());
}

TEST_CASE("blob key types are read from the blob itself") {
  CHECK(blob_key_type(blob(kEd)) == "ssh-ed25519");
  CHECK(blob_key_type(blob(kEc)) == "ecdsa-sha2-nistp256");
  CHECK(blob_key_type(blob(kRsa)) == "ssh-rsa");
  CHECK(blob_key_type("\x00\x00") == "");
}

TEST_CASE("plain, bracketed and comma-listed host fields match") {
  std::string text = "# comment\n\n" + line("pacs.example,10.0.0.5", "ssh-ed25519", kEd) +
                     line("[127.0.0.1]:2222", "ecdsa-sha2-nistp256", kEc) +
                     line("127.0.0.1", "ssh-rsa", kRsa);
  auto a = find_host_keys(text, "10.0.0.5");
  REQUIRE(a.size() == 1);
  CHECK(a[0].key_type == "ssh-ed25519");
  CHECK(a[0].line == 3);
  CHECK(find_host_keys(text, "PACS.example").size() == 1);  // host names compare case-insensitively
  auto b = find_host_keys(text, "[127.0.0.1]:2222");
  REQUIRE(b.size() == 1);
  CHECK(b[0].key_type == "ecdsa-sha2-nistp256");
  auto c = find_host_keys(text, "127.0.0.1");  // port 22: the plain entry only
  REQUIRE(c.size() == 1);
  CHECK(c[0].key_type == "ssh-rsa");
  CHECK(find_host_keys(text, "other.example").empty());
}

TEST_CASE("wildcards, negation, hashed names, markers and malformed lines") {
  std::string text = line("*.example,!bad.example", "ssh-ed25519", kEd) + kHashedEd + std::string("\n") +
                     "@revoked " + line("[127.0.0.1]:2222", "ssh-ed25519", kEd2) + "@cert-authority " +
                     line("*", "ssh-ed25519", kEd2) + "[127.0.0.1]:2222 ssh-ed25519 not!base64\n" +
                     line("[127.0.0.1]:2222", "ssh-rsa", kEd);  // type does not match the blob
  CHECK(find_host_keys(text, "ct.example").size() == 1);
  CHECK(find_host_keys(line("ct?.example", "ssh-ed25519", kEd), "ct1.example").size() == 1);
  CHECK(find_host_keys(line("[10.0.0.*]:2222", "ssh-ed25519", kEd), "[10.0.0.7]:2222").size() == 1);
  CHECK(find_host_keys(line("[10.0.0.*]:2222", "ssh-ed25519", kEd), "[10.0.0.7]:22").empty());
  CHECK(find_host_keys(text, "bad.example").empty());
  auto h = find_host_keys(text, "[127.0.0.1]:2222");
  REQUIRE(h.size() == 2);
  CHECK(h[0].key_type == "ssh-ed25519");
  CHECK_FALSE(h[0].revoked);
  CHECK(h[0].blob == blob(kEd));
  CHECK(h[1].revoked);
  CHECK(find_host_keys(text, "[127.0.0.1]:2223").empty());  // the hash is of the exact name
}

TEST_CASE("the offered key is matched, changed, unknown or revoked") {
  std::string text =
      line("[h]:2222", "ssh-ed25519", kEd) + "@revoked " + line("[h]:2222", "ssh-ed25519", kEd2);
  auto pinned = find_host_keys(text, "[h]:2222");
  CHECK(verify_host_key(pinned, blob(kEd)) == HostKeyVerdict::match);
  CHECK(verify_host_key(pinned, blob(kEd2)) == HostKeyVerdict::revoked);
  CHECK(verify_host_key(pinned, blob(kEc)) == HostKeyVerdict::changed);
  CHECK(verify_host_key({}, blob(kEd)) == HostKeyVerdict::unknown);
  CHECK(fingerprint_sha256(blob(kEd2)) == kEd2Fp);
}

TEST_CASE("the host key preference lists the pinned types, ed25519 and ECDSA before RSA") {
  std::string text =
      line("h", "ssh-rsa", kRsa) + line("h", "ecdsa-sha2-nistp256", kEc) + line("h", "ssh-ed25519", kEd);
  CHECK(hostkey_preference(find_host_keys(text, "h")) == "ssh-ed25519,ecdsa-sha2-nistp256,ssh-rsa");
  CHECK(hostkey_preference(find_host_keys(line("h", "ecdsa-sha2-nistp256", kEc), "h")) ==
        "ecdsa-sha2-nistp256");
  CHECK(hostkey_preference({}) == "");
}

TEST_CASE("private key files say which type they hold") {
  CHECK(private_key_type(openssh_private(blob(kEd))) == "ssh-ed25519");
  CHECK(private_key_type(openssh_private(blob(kEc))) == "ecdsa");
  CHECK(private_key_type(openssh_private(blob(kRsa))) == "ssh-rsa");
  CHECK(private_key_type("-----BEGIN RSA PRIVATE KEY-----\nMIIC\n-----END RSA PRIVATE KEY-----\n") ==
        "ssh-rsa");
  CHECK(private_key_type("-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n") == "ecdsa");
  CHECK(private_key_type("-----BEGIN PRIVATE KEY-----\nMC4\n-----END PRIVATE KEY-----\n") == "");
  CHECK(private_key_type("not a key") == "");
}
