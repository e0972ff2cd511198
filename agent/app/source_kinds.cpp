#include "agent/app/source_kinds.hpp"

#include "agent/sources/folder_source.hpp"
#ifdef LIGHTBOX_SOURCE_view
#include "agent/sources/view/view_source.hpp"
#endif
#include "agent/sources/dicom/dicom_source.hpp"
#include "agent/sources/ftp/ftp_source.hpp"
#include "agent/sources/http/http_source.hpp"
#include "agent/sources/sftp/sftp_source.hpp"

namespace lightbox::agent::app {
namespace {

// One row of the table: the kind's word, its config reader (which gets the common keys
// pre-filled), and how to build the source from the typed config.
template <class Config, class Parse, class Make>
SourceKind row(std::string_view word, Parse parse, Make make) {
  return {word, [parse, make](config::Node& n, const SourceSpec& spec) -> SourceBuilder {
            Config base;
            base.name = spec.name;
            if (spec.poll_seconds > 0) base.poll_seconds = spec.poll_seconds;
            Config cfg = parse(n, base);
            return [cfg, make](const SourceContext& ctx) -> std::unique_ptr<sources::Source> { return make(cfg, ctx); };
          }};
}

}  // namespace

const std::vector<SourceKind>& source_kinds() {
  using Ctx = const SourceContext&;
  static const std::vector<SourceKind> kinds{
      row<sources::FolderConfig>("folder", sources::parse_folder_config, [](const auto& c, Ctx ctx) {
        return std::make_unique<sources::FolderSource>(c, ctx.seen);
      }),
      row<sources::ftp::FtpConfig>("ftp", sources::ftp::parse_ftp_config, [](const auto& c, Ctx ctx) {
        return std::make_unique<sources::ftp::FtpSource>(c, ctx.seen, ctx.log, ctx.staging_dir);
      }),
      row<sources::sftp::SftpConfig>("sftp", sources::sftp::parse_sftp_config, [](const auto& c, Ctx ctx) {
        return std::make_unique<sources::sftp::SftpSource>(c, ctx.seen, ctx.staging_dir, ctx.log);
      }),
      row<sources::http::HttpConfig>("http", sources::http::parse_http_config, [](const auto& c, Ctx ctx) {
        return std::make_unique<sources::http::HttpSource>(c, ctx.seen, ctx.log, ctx.staging_dir, ctx.queue_db);
      }),
#ifdef LIGHTBOX_SOURCE_view  // unixODBC is optional at build time
      row<sources::view::ViewConfig>("view", sources::view::parse_view_config, [](const auto& c, Ctx ctx) {
        return std::make_unique<sources::view::ViewSource>(c, ctx.seen, ctx.staging_dir, ctx.log);
      }),
#endif
      row<sources::dicom::DicomConfig>("dicom", sources::dicom::parse_dicom_config, [](const auto& c, Ctx ctx) {
        return std::make_unique<sources::dicom::DicomSource>(c, ctx.seen, ctx.staging_dir, ctx.log);
      }),
  };
  return kinds;
}

}  // namespace lightbox::agent::app
