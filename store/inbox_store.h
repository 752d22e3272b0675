// Queries of the inbox_items table: what waits on an agent. A blocking item
// is a waitpoint (a hire to approve); the others are for it to see.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

struct InboxItem {
  std::string id, workspace_id, agent_id, kind;
  bool blocking = false;
  std::string status = "open";
  std::string payload = "{}";  // a JSON object
  std::string created_at;
  std::optional<std::string> resolved_at, resolved_by;
};

// Inserts item (its resolved_* are ignored) in the caller's transaction.
Status insert_inbox_item(Connection& w, const InboxItem& item);

// Resolves the open items of kind addressed to agent_id: how many it resolved.
Result<int> resolve_open_inbox_items(Connection& w, std::string_view agent_id, std::string_view kind,
                                     std::string_view resolved_by, std::string_view now);

// The number of open blocking items addressed to agent_id.
Result<int64_t> count_open_blocking(Connection& c, std::string_view agent_id);

// The items addressed to agent_id (only the open ones when open_only),
// newest first.
Result<std::vector<InboxItem>> list_inbox_items(Connection& c, std::string_view agent_id, bool open_only,
                                                int64_t limit, int64_t offset);

}  // namespace crewship::store
