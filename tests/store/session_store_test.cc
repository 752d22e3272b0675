#include "store/session_store.h"

#include "tests/store/store_db.h"

using namespace crewship;
using test::StoreDb;

TestSuite(session_store);

Test(session_store, live_expired_and_revoked) {
  StoreDb d;
  d.seed();
  cr_assert(store::insert_session(d.db(), "s1", "u1", 2000, "t").ok());
  auto live = store::find_live_session(d.db(), "s1", 1000);
  cr_assert(live.ok());
  cr_assert_eq(live->user_id, std::string_view("u1"));
  cr_assert_eq(live->name, std::string_view("One"));
  test::expect_status(store::find_live_session(d.db(), "s1", 2000), 404);  // expired
  cr_assert(*store::session_expiry(d.db(), "s1") == 2000);
  test::expect_status(store::session_expiry(d.db(), "nope"), 404);

  auto revoked = store::revoke_session(d.db(), "s1", "t");
  cr_assert(revoked.ok() && *revoked);
  auto again = store::revoke_session(d.db(), "s1", "t");
  cr_assert(again.ok() && !*again, "revoking twice changes nothing");
  test::expect_status(store::find_live_session(d.db(), "s1", 1000), 404);
}

Test(session_store, session_of_unknown_user_is_a_constraint_error) {
  StoreDb d;
  test::expect_store_failure(store::insert_session(d.db(), "s1", "nobody", 2000, "t").problem());
}

Test(session_store, cli_tokens) {
  StoreDb d;
  d.seed();
  cr_assert(store::insert_cli_token(d.db(), "t1", "u1", "laptop", "hash1", "2026-01-01").ok());
  cr_assert(store::insert_cli_token(d.db(), "t2", "u1", "ci", "hash2", "2026-01-02").ok());
  test::expect_store_failure(
      store::insert_cli_token(d.db(), "t3", "u1", "dup", "hash1", "t").problem());  // UNIQUE hash

  auto found = store::find_cli_token(d.db(), "hash1");
  cr_assert(found.ok());
  cr_assert_eq(found->token_id, std::string_view("t1"));
  cr_assert_eq(found->holder.email, std::string_view("u1@x.test"));
  test::expect_status(store::find_cli_token(d.db(), "other"), 404);
  cr_assert(*store::cli_token_name(d.db(), "t2") == "ci");
  test::expect_status(store::cli_token_name(d.db(), "t9"), 404);

  cr_assert(store::touch_cli_token(d.db(), "t1", "2026-02-01").ok());
  auto list = store::list_cli_tokens(d.db(), "u1", 10, 0);
  cr_assert(list.ok());
  cr_assert_eq(list->size(), 2u);
  cr_assert((*list)[0].last_used_at.value_or("") == std::string_view("2026-02-01"));
  cr_assert(!(*list)[1].last_used_at.has_value());
  cr_assert(store::list_cli_tokens(d.db(), "u1", 1, 1)->size() == 1u);

  cr_assert(!*store::revoke_cli_token(d.db(), "t1", "u2", "t"), "only its owner revokes a token");
  cr_assert(*store::revoke_cli_token(d.db(), "t1", "u1", "t"));
  test::expect_status(store::find_cli_token(d.db(), "hash1"), 404);
  cr_assert(store::list_cli_tokens(d.db(), "u1", 10, 0)->size() == 1u);
}

// A broken sessions or tokens table answers 500, never "no such session"
// (which the guard would turn into 401).
Test(session_store, store_error_is_500) {
  StoreDb d;
  d.seed();
  d.drop("user_sessions");
  d.drop("cli_tokens");
  test::expect_store_failure(store::find_live_session(d.db(), "s1", 0).problem());
  test::expect_store_failure(store::session_expiry(d.db(), "s1").problem());
  test::expect_store_failure(store::revoke_session(d.db(), "s1", "t").problem());
  test::expect_store_failure(store::find_cli_token(d.db(), "hash").problem());
  test::expect_store_failure(store::list_cli_tokens(d.db(), "u1", 10, 0).problem());
  test::expect_store_failure(store::revoke_cli_token(d.db(), "t1", "u1", "t").problem());
}
