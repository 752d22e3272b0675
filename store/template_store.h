// Crew templates: the roles an agent is made from. The built-in ones are in
// code and the same everywhere; a workspace adds its own to crew_templates.
// A slug names one template per workspace, built-in ones included.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

struct CrewTemplate {
  std::string slug, name;
  std::optional<std::string> role_title, system_prompt;
  std::string cli_adapter = "CLAUDE_CODE";
  std::optional<std::string> llm_model;
  bool built_in = false;
  // Set on the workspace-owned ones only.
  std::optional<std::string> id, workspace_id, created_by_user_id, created_at;
};

// backend-dev, frontend-dev, reviewer and qa-engineer.
std::span<const CrewTemplate> builtin_templates();

// The built-in templates, then workspace_id's own, oldest first.
Result<std::vector<CrewTemplate>> list_templates(Connection& c, std::string_view workspace_id);

// The built-in or workspace_id-owned template slug: 404 "template not found".
Result<CrewTemplate> find_template(Connection& c, std::string_view workspace_id, std::string_view slug);

// Inserts workspace-owned t (id, workspace_id and created_at set) in the
// caller's transaction: 409 when the slug is taken, by a built-in one too.
Status insert_template(Connection& w, const CrewTemplate& t);

}  // namespace crewship::store
