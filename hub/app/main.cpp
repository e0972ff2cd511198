// lightbox-hub: picks the subcommand; everything else happens in hub/app/commands.cpp.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "hub/app/cli.hpp"

int main(int argc, char** argv) {
  using namespace lightbox::hub::app;
  if (argc < 2) {
    std::cerr << usage();
    return 2;
  }
  std::string cmd = argv[1];
  auto args = parse_args(std::vector<std::string>(argv + 2, argv + argc), {"json", "help", "force"});
  if (!args) {
    std::cerr << args.error().field << ": " << args.error().message << "\n";
    return 2;
  }
  try {
    if (cmd == "serve") return run_serve(*args);
    if (cmd == "check") return run_check(*args);
    if (cmd == "admin") return run_admin(*args);
    if (cmd == "backup") return run_backup(*args);
    if (cmd == "restore") return run_restore(*args);
  } catch (const std::exception& e) {
    std::cerr << "fatal: " << e.what() << "\n";
    return 1;
  }
  std::cerr << usage();
  return 2;
}
