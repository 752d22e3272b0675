#include "store/workspace_store.h"

#include "tests/store/store_db.h"

using namespace crewship;
using test::StoreDb;

TestSuite(workspace_store);

Test(workspace_store, insert_find_update) {
  StoreDb d;
  d.seed();
  cr_assert(store::insert_workspace(d.db(), "w2", "Two", "two", "u2", "t").ok());
  test::expect_status(store::insert_workspace(d.db(), "w3", "Three", "two", "u2", "t"), 409);
  cr_assert(*store::workspace_slug_taken(d.db(), "two"));
  cr_assert(!*store::workspace_slug_taken(d.db(), "three"));

  auto w = store::find_workspace(d.db(), "w1");
  cr_assert(w.ok());
  cr_assert_eq(w->members, 1);
  cr_assert_eq(w->crews, 1);
  cr_assert_eq(w->agents, 0);
  test::expect_status(store::find_workspace(d.db(), "w9"), 404);

  cr_assert(store::update_workspace(d.db(), "w1", std::string("Renamed"), std::nullopt, "t2").ok());
  cr_assert(store::find_workspace(d.db(), "w1")->name == std::string_view("Renamed"));
  cr_assert(store::find_workspace(d.db(), "w1")->slug == std::string_view("w1"));
  test::expect_status(store::update_workspace(d.db(), "w1", std::nullopt, std::string("two"), "t"), 409);

  auto mine = store::list_user_workspaces(d.db(), "u2", 10, 0);
  cr_assert(mine.ok());
  cr_assert_eq(mine->size(), 1u);
  cr_assert_eq((*mine)[0].role, std::string_view("OWNER"));
}

Test(workspace_store, members) {
  StoreDb d;
  d.seed();
  cr_assert(*store::member_role(d.db(), "w1", "u1") == "OWNER");
  test::expect_status(store::member_role(d.db(), "w1", "u2"), 404);

  store::Member m{"m2", "u2", "", std::nullopt, "MEMBER", "t2"};
  cr_assert(*store::insert_member(d.db(), "w1", m));
  cr_assert(!*store::insert_member(d.db(), "w1", store::Member{"m3", "u2", "", {}, "ADMIN", "t"}),
            "a second membership of the same user is refused");
  test::expect_store_failure(
      store::insert_member(d.db(), "w1", store::Member{"m4", "nobody", "", {}, "ADMIN", "t"}).problem());

  auto list = store::list_members(d.db(), "w1", 10, 0);
  cr_assert(list.ok());
  cr_assert_eq(list->size(), 2u);
  cr_assert((*list)[0].name.value_or("") == std::string_view("One"));
  cr_assert(!(*list)[1].name.has_value());

  d.exec("INSERT INTO crew_members(crew_id, user_id, role, created_at) VALUES ('c1', 'u2', 'MEMBER', 't')");
  auto ref = store::find_member(d.db(), "m2", "w1");
  cr_assert(ref.ok());
  cr_assert_eq(ref->user_id, std::string_view("u2"));
  test::expect_status(store::find_member(d.db(), "m2", "w9"), 404);
  cr_assert(*store::count_owners(d.db(), "w1") == 1);
  cr_assert(store::remove_member(d.db(), "m2", "u2", "w1").ok());
  test::expect_status(store::member_role(d.db(), "w1", "u2"), 404);
  auto crew_members = d.db().prepare("SELECT count(*) FROM crew_members WHERE user_id = 'u2'");
  cr_assert_eq(crew_members.step(), SQLITE_ROW);
  cr_assert_eq(crew_members.int64(0), 0, "leaving a workspace leaves its crews");
}

// A broken membership table answers 500, never "not a member" (which the
// guard would turn into 403).
Test(workspace_store, store_error_is_500) {
  StoreDb d;
  d.seed();
  d.drop("workspace_members");
  test::expect_store_failure(store::member_role(d.db(), "w1", "u1").problem());
  test::expect_store_failure(store::find_member(d.db(), "m1", "w1").problem());
  test::expect_store_failure(store::list_members(d.db(), "w1", 10, 0).problem());
  test::expect_store_failure(store::count_owners(d.db(), "w1").problem());
  test::expect_store_failure(store::find_workspace(d.db(), "w1").problem());
  test::expect_store_failure(store::list_user_workspaces(d.db(), "u1", 10, 0).problem());
}

// Who operates the instance: members of its first workspace.
Test(workspace_store, first_workspace_role) {
  StoreDb d;
  d.seed();
  d.exec("INSERT INTO workspaces(id, name, slug, created_at, updated_at) VALUES ('w2', 'Later', 'w2', 't2', 't2');"
         "INSERT INTO workspace_members(id, workspace_id, user_id, role, created_at) VALUES ('m2', 'w2', 'u2', 'OWNER', 't');");
  cr_assert_eq(*store::first_workspace_role(d.db(), "u1"), "OWNER");
  test::expect_status(store::first_workspace_role(d.db(), "u2"), 404);  // OWNER of a later workspace only
}
