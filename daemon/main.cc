// crewshipd: parse the configuration, build the daemon, run the loop.
#include <cstdio>

#include <string_view>

#include "api/password.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "ipc/token_cli.h"

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "hash-worker") return crewship::api::run_hash_worker();
  crewship::Config config;
  std::string error;
  // `crewshipd token ...` reads the same settings from the environment only.
  bool token_cmd = argc > 1 && std::string_view(argv[1]) == "token";
  int first = token_cmd ? argc : 1;
  switch (crewship::parse_config(argc, argv, first, crewship::process_env(), &config, &error)) {
    case crewship::ParseOutcome::kHelp:
      std::fputs(crewship::usage_text().c_str(), stdout);
      return 0;
    case crewship::ParseOutcome::kVersion:
      std::puts("crewshipd " CREWSHIPD_VERSION);
      return 0;
    case crewship::ParseOutcome::kError:
      std::fprintf(stderr, "crewshipd: %s\n", error.c_str());
      return 2;
    case crewship::ParseOutcome::kRun:
      break;
  }
  if (token_cmd) return crewship::ipc::token_command(config, argc - 2, argv + 2);
  crewship::Daemon daemon(std::move(config));
  return daemon.run();
}
