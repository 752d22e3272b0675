// crewshipd: parse the configuration, build the daemon, run the loop.
#include <cstdio>

#include "daemon/config.h"
#include "daemon/daemon.h"

int main(int argc, char** argv) {
  crewship::Config config;
  std::string error;
  switch (crewship::parse_config(argc, argv, 1, crewship::process_env(), &config, &error)) {
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
  crewship::Daemon daemon(std::move(config));
  return daemon.run();
}
