#pragma once
// Command-line words for the hub's subcommands: "--name value" options, "--flag" switches and
// positional words, in any order.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error/result.hpp"
#include "hub/app/hub_config.hpp"

namespace lightbox::hub::app {

/// Parsed arguments after the subcommand.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // "--config F" -> {"config", "F"}
  std::set<std::string> flags;                 // "--json" -> "json"

  std::optional<std::string> option(const std::string& name) const;
  bool flag(const std::string& name) const { return flags.count(name) != 0; }
};

/// Splits `argv`; names in `flag_names` take no value, every other "--name" takes one.
Result<Args> parse_args(const std::vector<std::string>& argv, const std::set<std::string>& flag_names);

/// `lightbox-hub serve --config F`
int run_serve(const Args& args);
/// `lightbox-hub check --config F`
int run_check(const Args& args);
/// `lightbox-hub admin --config F <verb> ...`
int run_admin(const Args& args);
/// `lightbox-hub backup --config F --to DIR` (hub/app/backup.cpp)
int run_backup(const Args& args);
/// `lightbox-hub restore --config F --from DIR [--force]` (hub/app/backup.cpp)
int run_restore(const Args& args);
/// The config named by --config; prints its problems one per line and returns nullopt.
std::optional<HubConfig> config_from(const Args& args);
/// Usage text for every subcommand.
const char* usage();

}  // namespace lightbox::hub::app
