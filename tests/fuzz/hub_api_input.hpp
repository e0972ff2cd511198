#pragma once
// Shared by the hub API fuzzer and the regression test: a throwaway hub (in-memory store,
// SQLite index in a temp dir, one agent token) and the input format, lines
// "METHOD TARGET", "name: value"..., an empty line, then the body. The valid token is added
// unless the input has an "X-Fuzz-Anonymous" header (or its own Authorization header).
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/hash/sha256.hpp"
#include "hub/http/api.hpp"

namespace lightbox::fuzz {

/// A hub without sockets.
struct HubWorld {
  static constexpr const char* kToken = "lbt_fuzz_token";
  std::string dir;
  log::Logger log{log::Level::off};
  std::unique_ptr<hub::store::MemoryObjectStore> store;
  std::unique_ptr<hub::index::SqliteRepository> repo;
  std::unique_ptr<hub::index::SqliteRecordRepository> record_repo;
  std::unique_ptr<hub::records::RecordService> records;
  std::unique_ptr<hub::ingest::Pipeline> pipeline;
  std::unique_ptr<hub::http::Api> api;

  HubWorld() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lb-fuzz-hub-XXXXXX").string();
    dir = ::mkdtemp(tmpl.data());
    store = std::make_unique<hub::store::MemoryObjectStore>(dir + "/staging");
    repo = hub::index::SqliteRepository::open(dir + "/index.db").value();
    record_repo = hub::index::SqliteRecordRepository::open(dir + "/index.db").value();
    records = std::make_unique<hub::records::RecordService>(*record_repo, log);
    pipeline = std::make_unique<hub::ingest::Pipeline>(*store, *repo, log, 1 << 20);
    api = std::make_unique<hub::http::Api>(*pipeline, *repo, *store, *records, log, "fuzz");
    (void)repo->create_institution("h1", "H1");
    (void)repo->put_agent("h1", "a1", hash::sha256_hex(kToken));
  }
  ~HubWorld() {
    api.reset();
    pipeline.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  HubWorld(const HubWorld&) = delete;
  HubWorld& operator=(const HubWorld&) = delete;

  /// Parses one input and runs it through Api::handle.
  hub::http::Response handle(std::string_view in) {
    hub::http::Request req;
    auto next_line = [](std::string_view& rest) {
      auto nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      return line;
    };
    std::string_view rest = in;
    std::string_view first = next_line(rest);
    auto sp = first.find(' ');
    req.method = std::string(first.substr(0, sp));
    req.target = sp == std::string_view::npos ? "/" : std::string(first.substr(sp + 1));
    while (!rest.empty()) {
      std::string_view line = next_line(rest);
      if (line.empty()) break;
      auto colon = line.find(':');
      std::string name(line.substr(0, colon));
      std::string value = colon == std::string_view::npos ? "" : std::string(line.substr(colon + 1));
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      req.headers.emplace_back(std::move(name), std::move(value));
    }
    if (!req.has_header("X-Fuzz-Anonymous") && !req.has_header("Authorization"))
      req.headers.emplace_back("Authorization", std::string("Bearer ") + kToken);
    req.content_length = rest.size();
    return api->handle(req, rest, 1 + (in.size() % 4096));
  }
};

}  // namespace lightbox::fuzz
