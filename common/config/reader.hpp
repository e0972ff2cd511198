#pragma once
// Typed, eager config reading. JSON with comments; "${NAME}" in a string is replaced by the
// environment variable NAME and "${file:/path}" by the trimmed content of that file (secrets;
// the file must be mode 0600 or stricter and owned by the running user, else it is a problem).
// Every problem names its full JSON path ("sources[2].stable_seconds must be >= 1") and
// unknown keys are errors.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error/result.hpp"

namespace lightbox::config {

/// Accumulates every problem found while reading, so `check` can print them all at once.
class Problems {
 public:
  void add(std::string path, std::string message);
  bool empty() const { return list_.empty(); }
  const std::vector<Error>& list() const { return list_; }
  /// One problem per line: "path: message".
  std::string to_string() const;

 private:
  std::vector<Error> list_;
};

/// Reads a JSON-with-comments file and applies ${ENV} / ${file:...} substitution.
/// Substitution failures are recorded in `problems` with the path of the string.
Result<nlohmann::json> load_file(const std::string& path, Problems& problems);
/// Same as load_file, for text already in memory (tests).
Result<nlohmann::json> load_text(std::string_view text, Problems& problems);

/// A cursor on one JSON object of the config. Getters record problems instead of throwing;
/// finish() reports the keys nobody asked for.
class Node {
 public:
  Node(const nlohmann::json& j, std::string path, Problems& problems);

  const std::string& path() const { return path_; }
  std::string key_path(std::string_view key) const;
  bool has(std::string_view key) const;

  // Scalars: a missing optional key leaves `out` unchanged (so it holds the default).
  void get(std::string_view key, std::string& out, bool required = false);
  void get(std::string_view key, bool& out, bool required = false);
  void get(std::string_view key, double& out, bool required = false);
  void get(std::string_view key, std::int64_t& out, bool required = false);
  void get(std::string_view key, std::vector<std::string>& out, bool required = false);
  /// Integer within [min, max]; the message says which bound was crossed.
  void get_int(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max,
               bool required = false);
  /// One of the listed words.
  void get_enum(std::string_view key, std::string& out, std::vector<std::string_view> allowed,
                bool required = false);

  /// Child object; an absent optional child is an empty object.
  Node child(std::string_view key, bool required = false);
  /// Array of objects, each a Node with path "key[i]".
  std::vector<Node> items(std::string_view key, bool required = false);

  /// Records a problem about `key` (used for cross-field rules).
  void problem(std::string_view key, std::string message);
  /// Keys of this object (sorted), each marked as read (for maps such as view field maps).
  std::vector<std::string> keys();
  /// Reports every key of this object that no getter asked for.
  void finish();

 private:
  const nlohmann::json* find(std::string_view key);

  const nlohmann::json* j_;
  std::string path_;
  Problems* problems_;
  std::vector<std::string> seen_;
  static const nlohmann::json kEmpty;
};

}  // namespace lightbox::config
