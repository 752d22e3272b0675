// Queries of the credentials vault (credentials, sealed values only) and of
// agents' credential assignments (agent_credentials). A soft-deleted
// credential is gone from every read, its assignments with it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

struct Credential {
  std::string id, workspace_id, name, provider, type, hint, created_at, updated_at;
};
// Inserts c with its sealed value (nonce || box).
Status insert_credential(Connection& w, const Credential& c, std::string_view sealed,
                         std::string_view creator_user_id);
// The live credentials of workspace_id, oldest first.
Result<std::vector<Credential>> list_credentials(Connection& c, std::string_view workspace_id,
                                                 int64_t limit, int64_t offset);
// The live credential id of workspace_id; 404 "credential not found".
Result<Credential> find_credential(Connection& c, std::string_view id, std::string_view workspace_id);
// For each of types, the live credential of provider in workspace_id that
// was created first (ties: the one inserted first), in creation order.
Result<std::vector<Credential>> first_credentials_by_type(Connection& c, std::string_view workspace_id,
                                                          std::string_view provider,
                                                          std::string_view type_a, std::string_view type_b);
// Soft-deletes credential id.
Status delete_credential(Connection& w, std::string_view id, std::string_view now);

struct CredentialAssignment {
  std::string id, agent_id, credential_id, env_var_name;
  int64_t priority = 0;
  std::string created_at;
  std::string name, provider, type, hint;  // of the credential
};
// Assigns; false (nothing written) when credential_id already is assigned
// to agent_id.
Result<bool> insert_credential_assignment(Connection& w, const CredentialAssignment& a);
// The agent's assignments of live credentials, oldest first.
Result<std::vector<CredentialAssignment>> list_credential_assignments(Connection& c, std::string_view agent_id);
// Removes assignment id of agent_id; 404 "credential assignment not found".
Result<CredentialAssignment> delete_credential_assignment(Connection& w, std::string_view agent_id,
                                                          std::string_view id);

// What a run of agent_id gets in its environment: for each env_var_name,
// the live credential of the highest priority, then the earliest assigned.
struct SealedEnv {
  std::string credential_id, env_var_name, sealed;
};
Result<std::vector<SealedEnv>> credentials_to_inject(Connection& c, std::string_view agent_id);

}  // namespace crewship::store
