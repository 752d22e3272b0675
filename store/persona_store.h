// Queries behind an agent's persona: what resolving and gating it needs of
// the agent and its crew, the memory_versions history of persona files, and
// the agent's self-learning flag.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

struct PersonaAgent {
  std::string id, workspace_id;
  std::string crew_id;  // empty: not assigned to a live crew
  std::string name, slug, agent_role;
  std::optional<std::string> role_title;
  std::string autonomy_level;  // of the crew; "guided" without one (the crews' default)
  bool self_learning = false;
};
// The live agent id of workspace_id (empty: any workspace); 404 "agent not
// found".
Result<PersonaAgent> find_persona_agent(Connection& c, std::string_view id, std::string_view workspace_id);

struct MemoryVersion {
  std::string id, path, sha256;
  int64_t bytes = 0;
  std::string written_at, written_by;
  std::optional<std::string> parent_sha;  // none on the first version of path
};
// Appends a version of path in the caller's transaction; its parent is the
// newest version of path so far. Returns the row.
Result<MemoryVersion> append_memory_version(Connection& w, std::string_view path, std::string_view sha256,
                                            int64_t bytes, std::string_view written_by, std::string_view now);
// The versions of path, newest first.
Result<std::vector<MemoryVersion>> list_memory_versions(Connection& c, std::string_view path, int64_t limit,
                                                        int64_t offset);

struct Learning {
  bool enabled = false;
  std::optional<std::string> set_by_user_id, set_at, reason;  // none until first set
};
// The self-learning flag of the live agent id of workspace_id; 404 "agent
// not found".
Result<Learning> get_learning(Connection& c, std::string_view id, std::string_view workspace_id);
// Sets it, recording who, when and why; 404 "agent not found".
Status set_learning(Connection& w, std::string_view id, std::string_view workspace_id, bool enabled,
                    std::string_view user_id, std::string_view reason, std::string_view now);

}  // namespace crewship::store
