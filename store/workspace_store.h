// Queries of the workspaces table and its members. Reader functions take
// the loop thread's connection, writer functions the writer's; either may be
// passed where a function only reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

// Inserts a workspace and makes owner_user_id its OWNER, in the caller's
// transaction. 409 "slug is already taken" when the slug is.
Status insert_workspace(Connection& w, std::string_view id, std::string_view name,
                        std::string_view slug, std::string_view owner_user_id, std::string_view now);
// Whether some workspace has this slug.
Result<bool> workspace_slug_taken(Connection& c, std::string_view slug);

struct Workspace {
  std::string id, name, slug, created_at, updated_at;
  int64_t members = 0, crews = 0, agents = 0;  // live crews and agents
};
// Workspace id with its counts; 404 "workspace not found".
Result<Workspace> find_workspace(Connection& c, std::string_view id);

struct UserWorkspace {
  std::string id, name, slug, role, created_at, updated_at;
};
// The workspaces user_id belongs to, oldest first, with the user's role.
Result<std::vector<UserWorkspace>> list_user_workspaces(Connection& c, std::string_view user_id,
                                                        int64_t limit, int64_t offset);

// Sets the given fields; 409 "slug is already taken" when the slug is.
Status update_workspace(Connection& w, std::string_view id, const std::optional<std::string>& name,
                        const std::optional<std::string>& slug, std::string_view now);

// The role of user_id in workspace_id ("OWNER" .. "VIEWER"); 404 "not a
// member of this workspace".
Result<std::string> member_role(Connection& c, std::string_view workspace_id,
                                std::string_view user_id);

// The role of user_id in the instance's first workspace (the one the
// bootstrap made): who operates the instance. 404 when not a member.
Result<std::string> first_workspace_role(Connection& c, std::string_view user_id);

struct Member {
  std::string id, user_id, email;
  std::optional<std::string> name;
  std::string role, created_at;
};
// The members of workspace_id in the order they joined.
Result<std::vector<Member>> list_members(Connection& c, std::string_view workspace_id,
                                         int64_t limit, int64_t offset);
// Adds m (id, user_id, role, created_at) to workspace_id; false when the user
// already is a member.
Result<bool> insert_member(Connection& w, std::string_view workspace_id, const Member& m);

struct MemberRef {
  std::string user_id;
  std::string role;
};
// Member member_id of workspace_id; 404 "member not found".
Result<MemberRef> find_member(Connection& c, std::string_view member_id,
                              std::string_view workspace_id);
// How many OWNERs workspace_id has.
Result<int64_t> count_owners(Connection& c, std::string_view workspace_id);
// Removes member member_id (user user_id) from workspace_id and from every
// crew of it.
Status remove_member(Connection& w, std::string_view member_id, std::string_view user_id,
                     std::string_view workspace_id);

}  // namespace crewship::store
