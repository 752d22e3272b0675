#include "ipc/token_cli.h"

#include <cstdio>
#include <memory>
#include <string>

#include <sodium.h>

#include "ipc/internal_token.h"
#include "store/crew_store.h"
#include "store/db.h"
#include "store/migrations.h"
#include "store/store.h"
#include "store/workspace_store.h"

namespace crewship::ipc {

int token_command(const Config& config, int argc, char** argv) {
  if (argc != 2 || (std::string_view(argv[0]) != "crew" && std::string_view(argv[0]) != "workspace")) {
    std::fputs("usage: crewshipd token crew <crew_id> | token workspace <workspace_id>\n", stderr);
    return 2;
  }
  if (sodium_init() < 0) return 1;
  std::string kind = argv[0], id = argv[1];
  std::string path = config.data_dir + "/" + store::Store::kFileName;
  std::unique_ptr<store::Connection> db;
  std::string error;
  if (store::Connection::open(path, store::Connection::Mode::kRead, &db, &error) != SQLITE_OK) {
    std::fprintf(stderr, "crewshipd: cannot open %s: %s\n", path.c_str(), error.c_str());
    return 1;
  }
  if (store::schema_version(*db) < 1) {
    std::fprintf(stderr, "crewshipd: %s has no schema yet; start crewshipd once\n", path.c_str());
    return 1;
  }
  Result<std::string> workspace = std::string();
  int64_t generation = 0;
  if (kind == "crew") {
    auto crew = store::find_crew(*db, id, "");
    workspace = crew ? Result<std::string>(crew->workspace_id) : crew.problem();
    if (crew) generation = crew->token_generation;
  } else {
    auto ws = store::find_workspace(*db, id);
    workspace = ws ? Result<std::string>(ws->id) : ws.problem();
  }
  if (!workspace) {
    if (workspace.problem().status == 404) {
      std::fprintf(stderr, "crewshipd: no %s %s\n", kind.c_str(), id.c_str());
    } else {
      std::fprintf(stderr, "crewshipd: %s: %s\n", path.c_str(), workspace.problem().cause.c_str());
    }
    return 1;
  }
  InternalAuth auth;
  if (auth.load(config.internal_token, config.encryption_key, config.data_dir, &error) != 0) {
    std::fprintf(stderr, "crewshipd: internal token: %s\n", error.c_str());
    return 1;
  }
  std::string token = kind == "crew" ? auth.crew_token(*workspace, id, generation) : auth.workspace_token(*workspace);
  std::printf("%s\n", token.c_str());
  return 0;
}

}  // namespace crewship::ipc
