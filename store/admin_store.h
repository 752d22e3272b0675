// What the admin pages read of a workspace's members beyond their role: when
// they last signed in and how many CLI tokens they hold.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/result.h"
#include "store/db.h"
#include "store/workspace_store.h"

namespace crewship::store {

struct MemberActivity {
  Member member;
  std::optional<std::string> last_sign_in_at;  // the newest session issued to the user
  int64_t cli_tokens = 0;                      // unrevoked
};
// The members of workspace_id in the order they joined.
Result<std::vector<MemberActivity>> list_member_activity(Connection& c, std::string_view workspace_id,
                                                         int64_t limit, int64_t offset);

}  // namespace crewship::store
