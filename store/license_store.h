// Licence limits: how many agents, crews, members and workspaces the
// instance may hold. A limit covers the whole instance (the licence is the
// installation's, and a workspace limit can only be one of the instance);
// members are the users holding a membership of some workspace (a seat), so
// a user in two workspaces counts once. Each create checks its room inside
// its own writer transaction, before its insert: the writer runs one
// transaction at a time, so concurrent creates cannot pass a limit together.
#pragma once

#include <cstdint>
#include <string_view>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

enum class Licensed : uint8_t { kAgents, kCrews, kMembers, kWorkspaces };

// The most of each kind; 0 means no limit.
struct LicenseLimits {
  int64_t agents = 0, crews = 0, members = 0, workspaces = 0;
  int64_t of(Licensed kind) const;
};

// Live agents and crews, members (distinct users) and workspaces.
struct LicenseUsage {
  int64_t agents = 0, crews = 0, members = 0, workspaces = 0;
};
Result<LicenseUsage> license_usage(Connection& c);

// Ok when one more of kind fits under limits; 402 "license limit reached:
// at most N agents" when it does not. For kMembers, user_id is the user
// about to join: one who already holds a membership takes no new seat.
// Call it in the writer transaction of the insert it guards.
Status check_license_room(Connection& w, const LicenseLimits& limits, Licensed kind,
                          std::string_view user_id = {});

// The same check made after the insert it guards, so that the insert's own
// refusal (a taken slug: 409) comes first: ok while kind, the new row
// counted, is within limits; else 402, and the failed job undoes the insert.
Status check_license_kept(Connection& w, const LicenseLimits& limits, Licensed kind);

}  // namespace crewship::store
