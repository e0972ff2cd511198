#include "hub/store/object_store.hpp"

#include <map>
#include <mutex>

#include "common/hash/sha256.hpp"

namespace lightbox::hub::store {

struct MemoryObjectStore::State {
  mutable std::mutex mu;
  std::map<std::string, std::string> objects;
};

MemoryObjectStore::MemoryObjectStore(std::string staging_dir)
    : staging_dir_(std::move(staging_dir)), state_(std::make_unique<State>()) {}

MemoryObjectStore::~MemoryObjectStore() = default;

Status MemoryObjectStore::put(const std::string& sha256, fsio::AtomicFile&& staged) {
  if (!hash::is_sha256_hex(sha256)) {
    staged.abandon();
    return fail(Errc::invalid_argument, "object name is not a SHA-256", "sha256");
  }
  auto bytes = fsio::read_file(staged.temp_path());
  staged.abandon();
  if (!bytes) return std::move(bytes).error();
  std::lock_guard lock(state_->mu);
  state_->objects.emplace(sha256, std::move(*bytes));
  return {};
}

Result<std::uint64_t> MemoryObjectStore::size(const std::string& sha256) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->objects.find(sha256);
  if (it == state_->objects.end()) return fail(Errc::not_found, "no object " + sha256);
  return static_cast<std::uint64_t>(it->second.size());
}

Result<Blob> MemoryObjectStore::open(const std::string& sha256) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->objects.find(sha256);
  if (it == state_->objects.end()) return fail(Errc::not_found, "no object " + sha256);
  Blob b;
  b.bytes = it->second;
  b.size = it->second.size();
  return b;
}

Status MemoryObjectStore::remove(const std::string& sha256) {
  std::lock_guard lock(state_->mu);
  if (state_->objects.erase(sha256) == 0) return fail(Errc::not_found, "no object " + sha256);
  return {};
}

std::size_t MemoryObjectStore::count() const {
  std::lock_guard lock(state_->mu);
  return state_->objects.size();
}

}  // namespace lightbox::hub::store
