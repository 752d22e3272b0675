// Queries of the crews table. Reader functions take the loop thread's
// connection, writer functions the writer's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

struct CrewRef {
  std::string id;
  std::string workspace_id;
  std::string slug;
  int64_t memory_mb = 0;
  double cpus = 0;
  int64_t token_generation = 0;  // part of the MAC of the crew's bound tokens
};

// The live (not deleted) crew crew_id, within a scope: workspace_id and
// scope_crew_id empty mean any. 404 "crew not found" when it does not exist
// or lies outside the scope, 500 on a store error.
Result<CrewRef> find_crew(Connection& c, std::string_view crew_id, std::string_view workspace_id,
                          std::string_view scope_crew_id = {});

struct Crew {
  std::string id, workspace_id, name, slug;
  std::optional<std::string> description, color, avatar_style;
  std::string autonomy_level;
  int64_t max_ephemeral_agents = 0;
  int64_t container_memory_mb = 0;
  double container_cpus = 0;
  std::optional<std::string> created_by_user_id;
  std::string created_at, updated_at;
  int64_t agents = 0;   // live agents
  int64_t members = 0;  // crew members
};
// The live crew crew_id of workspace_id; 404 "crew not found".
// The token generation of the live crew crew_id; 404 when there is none.
Result<int64_t> crew_token_generation(Connection& c, std::string_view crew_id);
// Moves the crew's token generation on, revoking its bound tokens; *now
// gets the new one. 404 when there is no such live crew.
Status bump_token_generation(Connection& w, std::string_view crew_id, int64_t* now);

Result<Crew> get_crew(Connection& c, std::string_view crew_id, std::string_view workspace_id);
// The live crews of workspace_id, oldest first.
Result<std::vector<Crew>> list_crews(Connection& c, std::string_view workspace_id, int64_t limit,
                                     int64_t offset);

// Whether a live crew of workspace_id other than except_id has this slug.
Result<bool> crew_slug_taken(Connection& c, std::string_view workspace_id, std::string_view slug,
                             std::string_view except_id);

struct NewCrew {
  std::string name, slug;
  std::optional<std::string> description, color, avatar_style;
  std::string autonomy_level = "guided";
  int64_t max_ephemeral_agents = 3;
  int64_t container_memory_mb = 4096;
  double container_cpus = 2.0;
};
// Inserts crew id and makes its creator the crew's OWNER.
Status insert_crew(Connection& w, std::string_view id, std::string_view workspace_id,
                   const NewCrew& crew, std::string_view creator_user_id, std::string_view now);

// A field an update may set to a value or clear (NULL).
struct Clearable {
  bool set = false;
  std::optional<std::string> value;
};
// What an update changes; absent fields keep their value.
struct CrewPatch {
  std::optional<std::string> name, slug, autonomy_level;
  Clearable description, color, avatar_style;
  std::optional<int64_t> max_ephemeral_agents, container_memory_mb;
  std::optional<double> container_cpus;
};
Status update_crew(Connection& w, std::string_view id, std::string_view workspace_id,
                   const CrewPatch& patch, std::string_view now);

// What user_id is to the live crew crew_id of workspace_id; 404 "crew not
// found".
struct CrewRights {
  bool creator = false;     // created the crew
  bool crew_admin = false;  // holds OWNER or ADMIN in the crew
};
Result<CrewRights> crew_rights(Connection& c, std::string_view crew_id,
                               std::string_view workspace_id, std::string_view user_id);

// Whether crew_id still has live agents.
Result<bool> crew_has_agents(Connection& c, std::string_view crew_id);
// Soft-deletes crew id.
Status delete_crew(Connection& w, std::string_view id, std::string_view now);

struct CrewMember {
  std::string user_id, email;
  std::optional<std::string> name;
  std::string role, created_at;
};
// The members of crew_id in the order they joined.
Result<std::vector<CrewMember>> list_crew_members(Connection& c, std::string_view crew_id,
                                                  int64_t limit, int64_t offset);
// Adds user_id to crew_id; false when they already are a member.
Result<bool> insert_crew_member(Connection& w, std::string_view crew_id, std::string_view user_id,
                                std::string_view role, std::string_view now);
// Removes user_id from crew_id; false when they were no member.
Result<bool> delete_crew_member(Connection& w, std::string_view crew_id, std::string_view user_id);

}  // namespace crewship::store
