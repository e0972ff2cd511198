#pragma once
// Stage 3: the durable queue. Each item is one spooled file and its delivery state:
//   collected -> verified -> uploading -> done, or failed / quarantined.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error/result.hpp"

namespace lightbox::agent::queue {

/// Delivery state of one item.
enum class State { collected, verified, uploading, done, failed, quarantined };
inline constexpr int kStateCount = 6;
std::string_view to_string(State s);
std::optional<State> parse_state(std::string_view s);

/// An item as stored.
struct Item {
  std::int64_t id = 0;
  std::string sha256;
  std::string kind;       // "dicom" | "attachment" | "records" (a view's batch)
  std::string source;
  std::string rel_path;
  std::uint64_t size = 0;
  State state = State::collected;
  std::int64_t attempts = 0;
  std::int64_t next_attempt_at = 0;  // unix ms
  std::string last_error_code;
  std::string last_error;
  std::int64_t created_at = 0;       // unix ms
  std::int64_t updated_at = 0;
};

/// A new item to insert (state verified, quarantined or collected).
struct NewItem {
  std::string sha256;
  std::string kind;
  std::string source;
  std::string rel_path;
  std::uint64_t size = 0;
  State state = State::verified;
  std::string error_code;  // quarantine reason_code
  std::string error;       // quarantine reason
};

/// What insert did with one NewItem: added, or the same bytes were already queued.
struct Inserted {
  std::int64_t id = 0;
  bool added = false;
  State existing_state = State::verified;  // meaningful when !added
};

/// A state change of a claimed (or collected) item.
struct Settlement {
  State to = State::done;
  std::int64_t next_attempt_at = 0;  // for to == verified (retry)
  bool count_attempt = false;        // attempts + 1
  std::string error_code;
  std::string error;
};

/// The queue seam. Implementations are thread-safe; a claimed item belongs to one worker.
class Queue {
 public:
  virtual ~Queue() = default;
  /// Inserts a batch in one transaction; bytes already queued (same sha256) are not added twice.
  virtual Result<std::vector<Inserted>> insert(const std::vector<NewItem>& items, std::int64_t now) = 0;
  /// Atomically moves one due verified item to uploading and returns it; nullopt when none is due.
  virtual Result<std::optional<Item>> claim(std::int64_t now) = 0;
  /// Moves item `id` from state `from` as described; conflict when it was not in `from`.
  virtual Status settle(std::int64_t id, State from, const Settlement& s, std::int64_t now) = 0;
  /// Earliest next_attempt_at among verified items; nullopt when there is none.
  virtual Result<std::optional<std::int64_t>> next_due() = 0;
  /// Items in one state (oldest first), at most `limit`.
  virtual Result<std::vector<Item>> list(State state, std::int64_t limit) = 0;
  /// The item holding these bytes, if any.
  virtual Result<std::optional<Item>> find(const std::string& sha256) = 0;
};

/// Full-jitter exponential backoff in ms: u01 * min(max, initial * 2^attempts), u01 in [0, 1].
std::int64_t backoff_ms(std::int64_t attempts, std::int64_t initial_ms, std::int64_t max_ms, double u01);

/// Wall-clock now in unix milliseconds.
std::int64_t unix_now_ms();

}  // namespace lightbox::agent::queue
