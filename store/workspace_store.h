// Queries of the workspaces table and its members that more than one
// resource needs. Writer-thread functions take the writer's connection.
#pragma once

#include <string>

#include "store/db.h"

namespace crewship::store {

// Inserts a workspace and makes owner_user_id its OWNER, in the caller's
// transaction. A taken slug fails with SQLITE_CONSTRAINT_UNIQUE.
int insert_workspace(Connection& c, const std::string& id, const std::string& name,
                     const std::string& slug, const std::string& owner_user_id, const std::string& now);

}  // namespace crewship::store
