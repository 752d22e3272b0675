#include "store/crew_store.h"

#include "tests/store/store_db.h"

using namespace crewship;
using test::StoreDb;

TestSuite(crew_store);

Test(crew_store, insert_get_list_update_delete) {
  StoreDb d;
  d.seed();
  store::NewCrew n;
  n.name = "Backend";
  n.slug = "backend";
  n.color = "#fff";
  cr_assert(store::insert_crew(d.db(), "c2", "w1", n, "u1", "t2").ok());
  auto c = store::get_crew(d.db(), "c2", "w1");
  cr_assert(c.ok());
  cr_assert_eq(c->autonomy_level, std::string_view("guided"));
  cr_assert_eq(c->container_memory_mb, 4096);
  cr_assert_float_eq(c->container_cpus, 2.0, 1e-9);
  cr_assert(c->color.value_or("") == std::string_view("#fff"));
  cr_assert(!c->description.has_value());
  cr_assert_eq(c->members, 1, "the creator is the crew's OWNER");
  test::expect_status(store::get_crew(d.db(), "c2", "w9"), 404);  // another workspace
  cr_assert(*store::crew_slug_taken(d.db(), "w1", "backend", "c9"));
  cr_assert(!*store::crew_slug_taken(d.db(), "w1", "backend", "c2"));

  store::CrewPatch p;
  p.name = "Renamed";
  p.color = {true, std::nullopt};  // cleared
  p.container_cpus = 0.5;
  cr_assert(store::update_crew(d.db(), "c2", "w1", p, "t3").ok());
  c = store::get_crew(d.db(), "c2", "w1");
  cr_assert_eq(c->name, std::string_view("Renamed"));
  cr_assert_eq(c->slug, std::string_view("backend"));
  cr_assert(!c->color.has_value());
  cr_assert_float_eq(c->container_cpus, 0.5, 1e-9);
  store::CrewPatch wild;
  wild.autonomy_level = "wild";  // not one the CHECK allows: no conflict of the caller's
  test::expect_store_failure(store::update_crew(d.db(), "c2", "w1", wild, "t").problem());

  auto list = store::list_crews(d.db(), "w1", 10, 0);
  cr_assert_eq(list->size(), 2u);
  cr_assert(!*store::crew_has_agents(d.db(), "c2"));
  cr_assert(store::delete_crew(d.db(), "c2", "t4").ok());
  test::expect_status(store::get_crew(d.db(), "c2", "w1"), 404);
  test::expect_status(store::find_crew(d.db(), "c2", "w1"), 404);
  cr_assert(store::list_crews(d.db(), "w1", 10, 0)->size() == 1u);
}

Test(crew_store, rights_and_members) {
  StoreDb d;
  d.seed();
  auto r = store::crew_rights(d.db(), "c1", "w1", "u2");
  cr_assert(r.ok() && !r->creator && !r->crew_admin);
  cr_assert(*store::insert_crew_member(d.db(), "c1", "u2", "ADMIN", "t"));
  cr_assert(!*store::insert_crew_member(d.db(), "c1", "u2", "MEMBER", "t"), "already a member");
  cr_assert(store::crew_rights(d.db(), "c1", "w1", "u2")->crew_admin);
  test::expect_status(store::crew_rights(d.db(), "c9", "w1", "u2"), 404);
  auto members = store::list_crew_members(d.db(), "c1", 10, 0);
  cr_assert_eq(members->size(), 1u);
  cr_assert(!(*members)[0].name.has_value());
  cr_assert(*store::delete_crew_member(d.db(), "c1", "u2"));
  cr_assert(!*store::delete_crew_member(d.db(), "c1", "u2"));
}

Test(crew_store, token_generation) {
  StoreDb d;
  d.seed();
  cr_assert_eq(*store::crew_token_generation(d.db(), "c1"), 0);
  cr_assert_eq(store::find_crew(d.db(), "c1", "w1")->token_generation, 0);
  int64_t now = 0;
  cr_assert(store::bump_token_generation(d.db(), "c1", &now).ok());
  cr_assert(store::bump_token_generation(d.db(), "c1", &now).ok());
  cr_assert_eq(now, 2);
  cr_assert_eq(*store::crew_token_generation(d.db(), "c1"), 2);
  cr_assert_eq(store::find_crew(d.db(), "c1", "w1")->token_generation, 2);
  test::expect_status(store::crew_token_generation(d.db(), "c9"), 404);
  test::expect_status(store::bump_token_generation(d.db(), "c9", &now), 404);
  cr_assert(store::delete_crew(d.db(), "c1", "t").ok());
  test::expect_status(store::crew_token_generation(d.db(), "c1"), 404);  // a deleted crew has no valid tokens
}

// A broken crews table answers 500, never "crew not found".
Test(crew_store, store_error_is_500) {
  StoreDb d;
  d.seed();
  d.drop("crews");
  test::expect_store_failure(store::find_crew(d.db(), "c1", "w1").problem());
  test::expect_store_failure(store::get_crew(d.db(), "c1", "w1").problem());
  test::expect_store_failure(store::list_crews(d.db(), "w1", 10, 0).problem());
  test::expect_store_failure(store::crew_rights(d.db(), "c1", "w1", "u1").problem());
  test::expect_store_failure(store::crew_slug_taken(d.db(), "w1", "crew", "").problem());
  test::expect_store_failure(store::insert_crew(d.db(), "c2", "w1", store::NewCrew{}, "u1", "t").problem());
  test::expect_store_failure(store::crew_token_generation(d.db(), "c1").problem());
}
