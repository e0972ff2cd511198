#pragma once
// SHA-256 through OpenSSL's EVP interface (uses SHA-NI where the CPU has it).
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error/result.hpp"

namespace lightbox::hash {

using Digest = std::array<std::uint8_t, 32>;

/// Incremental SHA-256. Owns its OpenSSL context.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  /// Finishes and returns the digest; the object is reset for reuse.
  Digest finish();
  /// finish() as 64 lowercase hex characters.
  std::string finish_hex();

 private:
  void* ctx_;  // EVP_MD_CTX*, kept opaque so callers don't include OpenSSL
};

std::string to_hex(const Digest& d);
/// True for exactly 64 lowercase hex characters.
bool is_sha256_hex(std::string_view s);
/// Hex SHA-256 of a whole string.
std::string sha256_hex(std::string_view data);
/// Hex SHA-256 of a file's bytes, read in large blocks.
Result<std::string> sha256_file(const std::string& path);

}  // namespace lightbox::hash
