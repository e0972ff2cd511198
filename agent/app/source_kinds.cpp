#include "agent/app/source_kinds.hpp"

#include "agent/sources/folder_source.hpp"

namespace lightbox::agent::app {

const std::vector<SourceKind>& source_kinds() {
  static const std::vector<SourceKind> kinds{
      {"folder",
       [](config::Node& n, const SourceSpec& spec) -> SourceBuilder {
         sources::FolderConfig base;
         base.name = spec.name;
         base.poll_seconds = spec.poll_seconds;
         auto cfg = sources::parse_folder_config(n, base);
         return [cfg](const SourceContext& ctx) { return std::make_unique<sources::FolderSource>(cfg, ctx.seen); };
       }},
  };
  return kinds;
}

}  // namespace lightbox::agent::app
