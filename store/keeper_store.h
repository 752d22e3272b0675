// The keeper's access log (keeper_requests): one row each time a credential
// was opened for a run, naming the credential, agent, run and the variable
// it filled; never the value. And the keeper's status counts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

struct KeeperRequest {
  std::string id, workspace_id, credential_id, agent_id, run_id, env_var_name, at;
};

// Inserts r in the caller's writer transaction.
Status insert_keeper_request(Connection& w, const KeeperRequest& r);

// The rows of workspace_id, newest first.
Result<std::vector<KeeperRequest>> list_keeper_requests(Connection& c, std::string_view workspace_id,
                                                        int64_t limit, int64_t offset);

// Over the whole instance: live credentials, their assignments to live
// agents, and the newest access.
struct KeeperCounts {
  int64_t credentials = 0, assignments = 0;
  std::optional<std::string> last_access_at;
};
Result<KeeperCounts> keeper_counts(Connection& c);

}  // namespace crewship::store
