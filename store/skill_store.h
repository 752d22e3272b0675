// Queries of a workspace's skills catalog (skills) and of agents' skill
// assignments (agent_skills).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

struct Skill {
  std::string id, workspace_id, name, slug;
  std::optional<std::string> description, content, created_by_user_id;
  std::string created_at, updated_at;
};
// Inserts s; 409 "a skill with this slug exists in the workspace".
Status insert_skill(Connection& w, const Skill& s);
// The skills of workspace_id, oldest first.
Result<std::vector<Skill>> list_skills(Connection& c, std::string_view workspace_id, int64_t limit,
                                       int64_t offset);
// Skill id of workspace_id; 404 "skill not found".
Result<Skill> find_skill(Connection& c, std::string_view id, std::string_view workspace_id);

struct SkillAssignment {
  std::string id, agent_id, skill_id;
  std::optional<std::string> config;
  std::string created_at;
  std::string skill_name, skill_slug;
};
// The id of skill_id's assignment to agent_id, if it has one.
Result<std::optional<std::string>> find_skill_assignment(Connection& c, std::string_view agent_id,
                                                         std::string_view skill_id);
Status insert_skill_assignment(Connection& w, const SkillAssignment& a);
// The agent's assignments, oldest first.
Result<std::vector<SkillAssignment>> list_skill_assignments(Connection& c, std::string_view agent_id);
// Removes skill_id from agent_id; false when it was not assigned.
Result<bool> delete_skill_assignment(Connection& w, std::string_view agent_id, std::string_view skill_id);

}  // namespace crewship::store
