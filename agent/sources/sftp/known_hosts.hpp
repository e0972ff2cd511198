#pragma once
// Host key pinning in OpenSSH's known_hosts format, and the key facts SFTP needs around it
// (fingerprints as `ssh-keygen -l` prints them, which key type a private key file holds).
// Pure code: no network, no libssh2, so all of it is unit-tested.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error/result.hpp"

namespace lightbox::agent::sources::sftp {

/// One host key listed for a host in a known_hosts file.
struct KnownHostKey {
  std::string key_type;  // "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa", ...
  std::string blob;      // the raw public key blob (base64-decoded)
  bool revoked = false;  // a "@revoked" line: this key must never be accepted
  int line = 0;          // 1-based line in the file, for messages
};

/// The name OpenSSH looks a host up under: "host" on port 22, "[host]:port" otherwise.
std::string known_hosts_name(const std::string& host, int port);

/// The keys in known_hosts text whose host field matches `name` (plain names, comma lists,
/// `*`/`?` wildcards, `!` negation and hashed `|1|salt|hash` entries). Comment, blank,
/// malformed and @cert-authority lines are skipped.
std::vector<KnownHostKey> find_host_keys(std::string_view text, const std::string& name);

/// Reads `file` and returns find_host_keys for `name`; a missing or unreadable file is an error.
Result<std::vector<KnownHostKey>> load_host_keys(const std::string& file, const std::string& name);

/// What a server's host key is, measured against the pinned keys.
enum class HostKeyVerdict {
  match,    // equals a pinned, not revoked key
  changed,  // the host is pinned, but not to this key
  unknown,  // the host has no entry at all
  revoked,  // the key is listed as @revoked
};

/// Compares the key a server offered with the pinned keys of that host.
HostKeyVerdict verify_host_key(const std::vector<KnownHostKey>& pinned, std::string_view blob);

/// "SHA256:" + unpadded base64 of the SHA-256 of a key blob, as OpenSSH prints it.
std::string fingerprint_sha256(std::string_view blob);

/// Host key algorithms for the key exchange, most wanted first: the pinned key types this
/// build can verify, so that the server presents the key that is pinned. Empty when none.
std::string hostkey_preference(const std::vector<KnownHostKey>& pinned);

/// Standard base64 (RFC 4648); `pad` adds the trailing '='.
std::string base64_encode(std::string_view data, bool pad = true);
/// Decodes standard base64 (padding optional, no whitespace); nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view text);

/// The key type a public key blob names in its first SSH string ("" when malformed).
std::string blob_key_type(std::string_view blob);

/// The key type a private key file holds ("ssh-ed25519", "ssh-rsa", "ecdsa", "ssh-dss"), read
/// from its unencrypted parts; "" when the format does not say (for example PKCS#8).
std::string private_key_type(std::string_view file_text);

}  // namespace lightbox::agent::sources::sftp
