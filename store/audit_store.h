// Queries of audit_logs: one row per mutation, written by the writer work
// that makes the change, inside the same transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

struct AuditEntry {
  std::string workspace_id, action;
  std::string actor_user_id;  // empty: none (an internal caller, a webhook)
  std::string target_type, target_id;
  std::string details;  // a JSON object, or empty; never a secret value
};
// Appends the row (a new id, created_at now) in the caller's transaction.
Status insert_audit(Connection& w, const AuditEntry& e);

struct AuditRow {
  std::string id, action;
  std::optional<std::string> actor_user_id;
  std::string target_type, target_id;
  std::optional<std::string> details;
  std::string created_at;
};
// The rows of workspace_id (of action when given), newest first.
Result<std::vector<AuditRow>> list_audit(Connection& c, std::string_view workspace_id,
                                         const std::optional<std::string>& action, int64_t limit,
                                         int64_t offset);

}  // namespace crewship::store
