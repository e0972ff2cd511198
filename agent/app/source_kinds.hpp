#pragma once
// The kinds of source this agent can run, in one explicit table: how each reads its part of
// the config and how it is built. Adding a kind = one row here plus its own folder/files.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/sources/seen_store.hpp"
#include "agent/sources/source.hpp"
#include "common/config/reader.hpp"
#include "common/log/logger.hpp"

namespace lightbox::agent::app {

/// What a source may use when it is built: the shared seen-set/watermark store, a private
/// staging folder (for downloads) under the agent's data_dir, the logger, and the path of the
/// agent's queue.db for a kind that keeps a small table of its own there.
struct SourceContext {
  sources::SeenStore& seen;
  std::string staging_dir;
  log::Logger& log;
  std::string queue_db;
};

/// Builds one configured source.
using SourceBuilder = std::function<std::unique_ptr<sources::Source>(const SourceContext&)>;

/// One configured source: the keys every kind has, and its builder (which holds the typed,
/// kind-specific config).
struct SourceSpec {
  std::string name;
  std::string kind;
  std::int64_t poll_seconds = 0;  // 0 = not in the config: the kind's own default applies
  SourceBuilder build;
};

/// A kind of source: its word in the config and the reader of its specific keys.
struct SourceKind {
  std::string_view kind;
  /// Reads the kind's keys from `n` (name/kind/poll_seconds are already read into `spec`) and
  /// returns the builder. Problems go to the node, with their full path.
  std::function<SourceBuilder(config::Node& n, const SourceSpec& spec)> parse;
};

/// Every kind, in the order `check` lists them.
const std::vector<SourceKind>& source_kinds();

}  // namespace lightbox::agent::app
