// Queries of the users table. Reader functions take the loop thread's
// connection, writer functions the writer's; either may be passed where a
// function only reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

struct UserRef {
  std::string id;
  std::string email;
  std::optional<std::string> name;  // NULL: no name given
};

// Whether any user exists (bootstrap runs only while none does).
Result<bool> any_user(Connection& c);

// Inserts a user; an empty name is stored as NULL. 409 "a user with this
// email exists" when the email (case-insensitive) is taken.
Status insert_user(Connection& w, const UserRef& u, std::string_view password_hash,
                   std::string_view now);

struct LoginUser {
  UserRef user;
  std::string password_hash;
  int64_t locked_until = 0;  // unix seconds; 0: not locked
  int64_t failed_logins = 0; // failures in a row since the last lock or success
};
// The user signing in with email; 404 "no such user" when none has it.
Result<LoginUser> find_login(Connection& c, std::string_view email);

// Counts a failed sign-in of user id: the max-th failure in a row locks the
// account until `until` (unix seconds) and restarts the count.
Status record_failed_login(Connection& w, std::string_view id, int64_t max, int64_t until);
// A successful sign-in restarts the count of failures.
Status clear_failed_logins(Connection& w, std::string_view id);

// The user with email; 404 "no user with this email" when none has it.
Result<UserRef> find_user_by_email(Connection& c, std::string_view email);
// The member of workspace_id with this id (by_id) or email; 404 "no such
// user in this workspace" when there is none.
Result<UserRef> find_workspace_user(Connection& c, std::string_view workspace_id, bool by_id,
                                    std::string_view id_or_email);

}  // namespace crewship::store
