#include "store/user_store.h"

#include "tests/store/store_db.h"

using namespace crewship;
using test::StoreDb;

TestSuite(user_store);

Test(user_store, insert_find_and_unique_email) {
  StoreDb d;
  auto none = store::any_user(d.db());
  cr_assert(none.ok() && !*none);
  cr_assert(store::insert_user(d.db(), {"u1", "a@x.test", std::string("")}, "hash", "t").ok());
  auto some = store::any_user(d.db());
  cr_assert(some.ok() && *some);

  auto login = store::find_login(d.db(), "A@X.TEST");  // emails compare case-insensitively
  cr_assert(login.ok());
  cr_assert_eq(login->user.id, std::string_view("u1"));
  cr_assert(!login->user.name.has_value(), "an empty name is stored as NULL");
  cr_assert_eq(login->password_hash, std::string_view("hash"));
  test::expect_status(store::find_login(d.db(), "b@x.test"), 404);

  auto taken = store::insert_user(d.db(), {"u2", "a@x.test", std::nullopt}, "hash", "t");
  test::expect_status(taken, 409);
}

Test(user_store, failed_logins_lock_then_clear) {
  StoreDb d;
  d.seed();
  for (int i = 0; i < 2; ++i) cr_assert(store::record_failed_login(d.db(), "u1", 3, 999).ok());
  cr_assert(store::find_login(d.db(), "u1@x.test")->locked_until == 0);
  cr_assert(store::record_failed_login(d.db(), "u1", 3, 999).ok());
  cr_assert(store::find_login(d.db(), "u1@x.test")->locked_until == 999, "the third failure locks");
  cr_assert(store::clear_failed_logins(d.db(), "u1").ok());
}

Test(user_store, workspace_users) {
  StoreDb d;
  d.seed();
  auto by_id = store::find_workspace_user(d.db(), "w1", true, "u1");
  cr_assert(by_id.ok());
  cr_assert_eq(by_id->email, std::string_view("u1@x.test"));
  cr_assert(by_id->name.value_or("") == std::string_view("One"));
  cr_assert(store::find_workspace_user(d.db(), "w1", false, "u1@x.test").ok());
  test::expect_status(store::find_workspace_user(d.db(), "w1", true, "u2"), 404);  // not a member
  auto u2 = store::find_user_by_email(d.db(), "u2@x.test");
  cr_assert(u2.ok() && !u2->name.has_value());
  test::expect_status(store::find_user_by_email(d.db(), "nobody@x.test"), 404);
}

// A broken users table answers 500, never "no such user" (which a sign-in
// would turn into 401).
Test(user_store, store_error_is_500) {
  StoreDb d;
  d.seed();
  d.drop("users");
  test::expect_store_failure(store::find_login(d.db(), "u1@x.test").problem());
  test::expect_store_failure(store::any_user(d.db()).problem());
  test::expect_store_failure(store::find_user_by_email(d.db(), "u1@x.test").problem());
  test::expect_store_failure(store::find_workspace_user(d.db(), "w1", true, "u1").problem());
  test::expect_store_failure(store::insert_user(d.db(), {"u3", "c@x.test", {}}, "h", "t").problem());
}
