// crewshipd: parse the configuration, build the daemon, run the loop.
#include <cstdio>

#include <string_view>
#include <vector>

#include "api/password.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "ipc/token_cli.h"

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "hash-worker") return crewship::api::run_hash_worker();
  // Flags may stand before or after a subcommand (`token crew ID`): split
  // the arguments into flags, with their values, and the words of the command.
  std::vector<char*> flags{argv[0]}, words;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') {
      words.push_back(argv[i]);
      continue;
    }
    flags.push_back(argv[i]);
    bool bare = arg != "--help" && arg != "-h" && arg != "--version" && arg.find('=') == arg.npos;
    if (bare && i + 1 < argc) flags.push_back(argv[++i]);
  }
  bool token_cmd = !words.empty() && std::string_view(words[0]) == "token";
  if (!words.empty() && !token_cmd) {
    std::fprintf(stderr, "crewshipd: unknown command '%s' (see --help)\n", words[0]);
    return 2;
  }
  crewship::Config config;
  std::string error;
  switch (crewship::parse_config(static_cast<int>(flags.size()), flags.data(), 1, crewship::process_env(),
                                 &config, &error)) {
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
  if (token_cmd) return crewship::ipc::token_command(config, static_cast<int>(words.size()) - 1, words.data() + 1);
  crewship::Daemon daemon(std::move(config));
  return daemon.run();
}
