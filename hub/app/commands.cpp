// The composition root: builds the store, index, ingest pipeline, API and server from the
// config and runs one subcommand.
#include <sys/random.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "common/config/reader.hpp"
#include "common/fsio/atomic_file.hpp"
#include "common/hash/sha256.hpp"
#include "common/http/client.hpp"
#include "common/log/logger.hpp"
#include "hub/app/cli.hpp"
#include "hub/app/enroll_commands.hpp"
#include "hub/alerts/service.hpp"
#include "hub/app/hub_config.hpp"
#include "hub/http/api.hpp"
#include "hub/http/server.hpp"
#include "hub/index/record_repository.hpp"
#include "hub/index/repository.hpp"
#include "hub/ingest/pipeline.hpp"
#include "hub/records/service.hpp"
#include "hub/store/object_store.hpp"

#ifndef LIGHTBOX_VERSION
#define LIGHTBOX_VERSION "0.0.0"
#endif

namespace lightbox::hub::app {

namespace {

std::unique_ptr<log::Logger> make_logger(const HubConfig& c) {
  log::Level level = log::Level::info;
  (void)log::parse_level(c.log_level, level);
  log::Sink sink;
  sink.path = c.log_file;
  if (!sink.path.empty()) sink.rotate_bytes = 64ULL << 20;
  return std::make_unique<log::Logger>(level, sink);
}

// "lbt_" + 64 hex characters from the kernel's CSPRNG.
Result<std::string> new_token() {
  hash::Digest bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(Errc::internal, std::string("getrandom: ") + std::strerror(errno));
    }
    got += static_cast<std::size_t>(n);
  }
  return "lbt_" + hash::to_hex(bytes);
}

int print_error(const Error& e) {
  std::cerr << (e.field.empty() ? std::string("error") : e.field) << ": " << e.message << "\n";
  return 1;
}

}  // namespace

std::optional<HubConfig> config_from(const Args& args) {
  auto path = args.option("config");
  if (!path) {
    std::cerr << "--config: is required\n" << usage();
    return std::nullopt;
  }
  config::Problems problems;
  auto cfg = load_hub_config(*path, problems);
  if (!cfg) std::cerr << problems.to_string();
  return cfg;
}

std::optional<std::string> Args::option(const std::string& name) const {
  auto it = options.find(name);
  if (it == options.end()) return std::nullopt;
  return it->second;
}

Result<Args> parse_args(const std::vector<std::string>& argv, const std::set<std::string>& flag_names) {
  Args a;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& w = argv[i];
    if (w.rfind("--", 0) != 0 || w.size() == 2) {
      a.positional.push_back(w);
      continue;
    }
    std::string name = w.substr(2);
    if (auto eq = name.find('='); eq != std::string::npos) {
      a.options[name.substr(0, eq)] = name.substr(eq + 1);
    } else if (flag_names.count(name)) {
      a.flags.insert(name);
    } else if (i + 1 < argv.size()) {
      a.options[name] = argv[++i];
    } else {
      return fail(Errc::invalid_argument, "needs a value", w);
    }
  }
  return a;
}

const char* usage() {
  return "usage: lightbox-hub serve --config FILE\n"
         "       lightbox-hub check --config FILE\n"
         "       lightbox-hub admin --config FILE create-institution --id ID --name NAME\n"
         "       lightbox-hub admin --config FILE create-agent --institution ID --agent AGENT_ID [--json]\n"
         "       lightbox-hub admin --config FILE revoke-agent --agent AGENT_ID\n"
         "       lightbox-hub admin --config FILE list-agents\n"
         "       lightbox-hub admin --config FILE create-operator --name NAME [--json]\n"
         "       lightbox-hub admin --config FILE revoke-operator --name NAME\n"
         "       lightbox-hub admin --config FILE list-operators\n"
         "       lightbox-hub admin --config FILE enroll-token --institution ID [--agent AGENT_ID] [--ttl-hours 24] [--json]\n"
         "       lightbox-hub admin --config FILE list-certs\n"
         "       lightbox-hub backup --config FILE --to DIR\n"
         "       lightbox-hub restore --config FILE --from DIR [--force]\n";
}

int run_serve(const Args& args) {
  auto cfg = config_from(args);
  if (!cfg) return 1;
  auto log = make_logger(*cfg);
  auto store = store::FsObjectStore::open_at(cfg->data_dir);
  if (!store) return print_error(store.error());
  if ((*store)->swept() > 0)
    log->info("hub.store", "removed leftover temporaries", {{"count", (*store)->swept()}});
  auto repo = index::SqliteRepository::open(cfg->index_path());
  if (!repo) return print_error(repo.error());

  auto record_repo = index::SqliteRecordRepository::open(cfg->index_path());
  if (!record_repo) return print_error(record_repo.error());

  ingest::Pipeline pipeline(**store, **repo, *log, static_cast<std::uint64_t>(cfg->max_body_bytes));
  records::RecordService record_service(**record_repo, *log);
  auto fleet_repo = fleet::FleetRepository::open(cfg->index_path());
  if (!fleet_repo) return print_error(fleet_repo.error());
  fleet::Metrics metrics;
  http::Api api(pipeline, **repo, **store, record_service, *log, LIGHTBOX_VERSION);
  api.set_fleet(fleet_repo->get(), &metrics);
  lightbox::http::GlobalInit curl_init;  // alert channels post with libcurl
  std::unique_ptr<alerts::AlertService> alert_service;
  if (cfg->alerts) {
    auto svc = alerts::AlertService::open(*cfg->alerts, cfg->index_path(), **fleet_repo, *log);
    if (!svc) return print_error(svc.error());
    alert_service = std::move(*svc);
    api.set_alerts(alert_service.get());
  }
  auto stats_repo = dashboard::StatsRepository::open(cfg->index_path());
  if (!stats_repo) return print_error(stats_repo.error());
  api.set_dashboard(stats_repo->get());
  auto enroll_stack = open_enroll(*cfg);
  if (!enroll_stack) return print_error(enroll_stack.error());
  if (*enroll_stack) api.set_enroll((*enroll_stack)->service.get());
  http::ServerOptions opts;
  opts.address = cfg->listen_address;
  opts.port = static_cast<std::uint16_t>(cfg->listen_port);
  opts.cert_file = cfg->tls_cert_file;
  opts.key_file = cfg->tls_key_file;
  if (*enroll_stack) opts.client_ca_file = (*enroll_stack)->authority.cert_file();
  opts.max_body_bytes = static_cast<std::uint64_t>(cfg->max_body_bytes);
  opts.header_timeout_seconds = static_cast<int>(cfg->header_timeout_seconds);
  opts.idle_timeout_seconds = static_cast<int>(cfg->idle_timeout_seconds);
  opts.max_connections = static_cast<int>(cfg->max_connections);
  opts.threads = cfg->io_threads();
  // fsync-bound work (store, index commit) waits on the disk, not the CPU: give it more threads.
  opts.blocking_threads = std::max(8, 2 * opts.threads);
  opts.shutdown_grace_seconds = static_cast<int>(cfg->shutdown_grace_seconds);
  if (alert_service) opts.on_stop = [svc = alert_service.get()] { svc->request_stop(); };
  http::Server server(opts, api, *log);
  if (auto s = server.start(); !s) return print_error(s.error());
  if (alert_service) alert_service->start();
  server.run(true);
  if (alert_service) alert_service->stop();
  return 0;
}

int run_check(const Args& args) {
  auto path = args.option("config");
  if (!path) {
    std::cerr << "--config: is required\n";
    return 1;
  }
  config::Problems problems;
  auto cfg = load_hub_config(*path, problems);
  if (cfg) {
    if (auto s = http::check_tls_files(cfg->tls_cert_file, cfg->tls_key_file); !s)
      problems.add(s.error().field.empty() ? "tls" : s.error().field, s.error().message);
    std::error_code ec;
    std::filesystem::create_directories(cfg->data_dir, ec);
    std::string probe = cfg->data_dir + "/.lightbox-check";
    if (ec) {
      problems.add("data_dir", "cannot create " + cfg->data_dir + ": " + ec.message());
    } else if (auto s = fsio::write_file_atomic(probe, "ok"); !s) {
      problems.add("data_dir", "not writable: " + s.error().message);
    } else {
      std::filesystem::remove(probe, ec);
      if (auto repo = index::SqliteRepository::open(cfg->index_path()); !repo)
        problems.add("data_dir", "index " + cfg->index_path() + " cannot be opened: " + repo.error().message);
      else if (auto records = index::SqliteRecordRepository::open(cfg->index_path()); !records)
        problems.add("data_dir", "records index " + cfg->index_path() + " cannot be opened: " +
                                     records.error().message);
    }
    check_enroll(*cfg, problems);
  }
  if (!problems.empty()) {
    std::cout << problems.to_string();
    return 1;
  }
  std::cout << "config OK\n";
  return 0;
}

int run_admin(const Args& args) {
  if (args.positional.empty()) {
    std::cerr << usage();
    return 2;
  }
  auto cfg = config_from(args);
  if (!cfg) return 1;
  std::error_code ec;
  std::filesystem::create_directories(cfg->data_dir, ec);
  auto repo = index::SqliteRepository::open(cfg->index_path());
  if (!repo) return print_error(repo.error());
  auto& r = **repo;
  const std::string& verb = args.positional[0];
  auto need = [&](const char* name) -> std::optional<std::string> {
    auto v = args.option(name);
    if (!v || v->empty()) std::cerr << "--" << name << ": is required\n";
    return v && !v->empty() ? v : std::nullopt;
  };

  if (verb == "create-institution") {
    auto id = need("id");
    auto name = need("name");
    if (!id || !name) return 2;
    auto inst = r.create_institution(*id, *name);
    if (!inst) return print_error(inst.error());
    std::cout
        << nlohmann::json{{"id", inst->id}, {"name", inst->name}, {"created_at", inst->created_at}}.dump()
        << "\n";
    return 0;
  }
  if (verb == "create-agent") {
    auto inst = need("institution");
    auto agent = need("agent");
    if (!inst || !agent) return 2;
    auto token = new_token();
    if (!token) return print_error(token.error());
    if (auto s = r.put_agent(*inst, *agent, hash::sha256_hex(*token)); !s) return print_error(s.error());
    if (args.flag("json"))
      std::cout << nlohmann::json{{"agent", *agent}, {"institution", *inst}, {"token", *token}}.dump()
                << "\n";
    else
      std::cout << *token << "\n";
    return 0;
  }
  if (verb == "revoke-agent") {
    auto agent = need("agent");
    if (!agent) return 2;
    if (auto s = r.revoke_agent(*agent); !s) return print_error(s.error());
    if (auto s = revoke_agent_certificates(*cfg, *agent); !s) return print_error(s.error());
    std::cout << nlohmann::json{{"agent", *agent}, {"revoked", true}}.dump() << "\n";
    return 0;
  }
  if (verb == "list-agents") {
    auto agents = r.list_agents();
    if (!agents) return print_error(agents.error());
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& a : *agents)
      arr.push_back({{"agent", a.id},
                     {"institution", a.institution},
                     {"revoked", a.revoked},
                     {"created_at", a.created_at}});
    std::cout << nlohmann::json{{"agents", arr}}.dump() << "\n";
    return 0;
  }
  if (verb == "create-operator") {
    // A person of the city ops team: sees every institution's fleet, stats and alerts, uploads nothing.
    auto name = need("name");
    if (!name) return 2;
    auto token = new_token();
    if (!token) return print_error(token.error());
    const std::string op_token = "lbo_" + token->substr(4);
    if (auto s = r.put_operator(*name, hash::sha256_hex(op_token)); !s) return print_error(s.error());
    if (args.flag("json"))
      std::cout << nlohmann::json{{"operator", *name}, {"role", "ops"}, {"token", op_token}}.dump() << "\n";
    else
      std::cout << op_token << "\n";
    return 0;
  }
  if (verb == "revoke-operator") {
    auto name = need("name");
    if (!name) return 2;
    if (auto s = r.revoke_operator(*name); !s) return print_error(s.error());
    std::cout << nlohmann::json{{"operator", *name}, {"revoked", true}}.dump() << "\n";
    return 0;
  }
  if (verb == "list-operators") {
    auto ops = r.list_operators();
    if (!ops) return print_error(ops.error());
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& o : *ops)
      arr.push_back({{"operator", o.name}, {"revoked", o.revoked}, {"created_at", o.created_at}});
    std::cout << nlohmann::json{{"operators", arr}}.dump() << "\n";
    return 0;
  }
  if (int rc = run_enroll_admin(*cfg, args, verb); rc >= 0) return rc;
  std::cerr << "unknown admin command '" << verb << "'\n" << usage();
  return 2;
}

}  // namespace lightbox::hub::app
