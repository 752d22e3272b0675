#include "store/agent_store.h"
#include "store/run_store.h"

#include "tests/store/store_db.h"

using namespace crewship;
using test::StoreDb;

namespace {

store::AgentFields fields(const char* slug, const char* role = "AGENT") {
  store::AgentFields a;
  a.name = std::string("Agent ") + slug;
  a.slug = slug;
  a.agent_role = role;
  if (std::string_view(role) == "LEAD") {
    a.crew_id = "c1";
    a.lead_mode = "active";
  }
  return a;
}

}  // namespace

TestSuite(agent_store);

Test(agent_store, insert_get_list) {
  StoreDb d;
  d.seed();
  auto a = fields("dev");
  a.crew_id = "c1";
  a.mcp_config_json = R"({"mcpServers":{}})";
  cr_assert(store::insert_agent(d.db(), "a1", "w1", "u1", "t1", a).ok());
  cr_assert(store::insert_agent(d.db(), "a2", "w1", "u1", "t2", fields("ops")).ok());

  auto got = store::get_agent(d.db(), "a1", "w1");
  cr_assert(got.ok());
  cr_assert_eq(got->status, std::string_view("IDLE"));
  cr_assert(got->fields.crew_id.value_or("") == std::string_view("c1"));
  cr_assert(got->crew.has_value());
  cr_assert_eq(got->crew->slug, std::string_view("crew"));
  cr_assert(got->created_by_user_id.value_or("") == std::string_view("u1"));
  cr_assert_eq(got->fields.timeout_seconds, 1800);
  cr_assert(got->fields.mcp_config_json.value_or("") == std::string_view(R"({"mcpServers":{}})"));
  test::expect_status(store::get_agent(d.db(), "a1", "w9"), 404);
  cr_assert(!store::get_agent(d.db(), "a2", "w1")->crew.has_value());

  cr_assert(store::list_agents(d.db(), "w1", std::nullopt, 10, 0)->size() == 2u);
  auto in_crew = store::list_agents(d.db(), "w1", std::string("c1"), 10, 0);
  cr_assert_eq(in_crew->size(), 1u);
  cr_assert_eq((*in_crew)[0].id, std::string_view("a1"));
  auto ref = store::find_agent(d.db(), "a1", "w1", "c1");
  cr_assert(ref.ok());
  cr_assert_eq(ref->slug, std::string_view("dev"));
  test::expect_status(store::find_agent(d.db(), "a2", "w1", "c1"), 404);  // not in that crew
}

Test(agent_store, unique_rules_are_409) {
  StoreDb d;
  d.seed();
  cr_assert(store::insert_agent(d.db(), "a1", "w1", "u1", "t", fields("lead", "LEAD")).ok());
  auto dup = store::insert_agent(d.db(), "a2", "w1", "u1", "t", fields("lead"));
  test::expect_status(dup, 409);
  cr_assert_eq(dup.problem().detail, std::string_view("an agent with this slug exists in the workspace"));
  auto second_lead = store::insert_agent(d.db(), "a3", "w1", "u1", "t", fields("lead2", "LEAD"));
  test::expect_status(second_lead, 409);
  cr_assert_eq(second_lead.problem().detail, std::string_view("the crew already has a LEAD agent"));
  // A CHECK failure is no conflict of the caller's: a store error.
  auto bad = fields("odd");
  bad.agent_role = "BOSS";
  test::expect_store_failure(store::insert_agent(d.db(), "a4", "w1", "u1", "t", bad).problem());
  // The slug of a deleted agent is free again.
  cr_assert(store::delete_agent(d.db(), "a1", "t").ok());
  cr_assert(store::insert_agent(d.db(), "a5", "w1", "u1", "t", fields("lead")).ok());
}

Test(agent_store, edit_update_delete) {
  StoreDb d;
  d.seed();
  auto a = fields("dev");
  a.crew_id = "c1";
  cr_assert(store::insert_agent(d.db(), "a1", "w1", "u1", "t", a).ok());
  auto by_creator = store::load_agent_for_edit(d.db(), "a1", "w1", "u1");
  cr_assert(by_creator.ok() && by_creator->creator && !by_creator->crew_admin);
  d.exec("INSERT INTO crew_members(crew_id, user_id, role, created_at) VALUES ('c1', 'u2', 'ADMIN', 't')");
  auto by_admin = store::load_agent_for_edit(d.db(), "a1", "w1", "u2");
  cr_assert(by_admin.ok() && !by_admin->creator && by_admin->crew_admin);
  test::expect_status(store::load_agent_for_edit(d.db(), "a1", "w9", "u1"), 404);

  store::AgentFields f = by_creator->fields;
  f.description = "does things";
  cr_assert(store::update_agent(d.db(), "a1", "w1", "t2", f).ok());
  cr_assert(store::get_agent(d.db(), "a1", "w1")->fields.description.value_or("") == std::string_view("does things"));
  cr_assert(store::insert_agent(d.db(), "a2", "w1", "u1", "t", fields("ops")).ok());
  f.slug = "ops";
  test::expect_status(store::update_agent(d.db(), "a1", "w1", "t3", f), 409);

  cr_assert(store::delete_agent(d.db(), "a1", "t4").ok());
  test::expect_status(store::get_agent(d.db(), "a1", "w1"), 404);
  test::expect_status(store::load_agent_for_edit(d.db(), "a1", "w1", "u1"), 404);
}

Test(agent_store, loads) {
  StoreDb d;
  d.seed();
  auto a = fields("dev");
  a.crew_id = "c1";
  cr_assert(store::insert_agent(d.db(), "a1", "w1", "u1", "t", a).ok());
  cr_assert(store::insert_agent(d.db(), "a2", "w1", "u1", "t", fields("ops")).ok());
  cr_assert(store::insert_agent(d.db(), "a3", "w1", "u1", "t", fields("qa")).ok());
  d.exec("UPDATE agents SET status = 'RUNNING' WHERE id IN ('a1', 'a2');"
         "UPDATE agents SET status = 'ERROR' WHERE id = 'a3';"
         "INSERT INTO assignments(id, workspace_id, status, created_at) VALUES ('q1', 'w1', 'QUEUED', 't');"
         "INSERT INTO crews(id, workspace_id, name, slug, created_at, updated_at)"
         " VALUES ('c2', 'w1', 'Empty', 'empty', 't2', 't2');");
  auto load = store::workspace_load(d.db(), "w1");
  cr_assert(load.ok());
  cr_assert_eq(load->all.total, 3);
  cr_assert_eq(load->all.running, 2);
  cr_assert_eq(load->all.error, 1);
  cr_assert_eq(load->all.idle(), 0);
  cr_assert_eq(load->unassigned.total, 2);
  cr_assert_eq(load->queued, 1);
  auto crews = store::crew_loads(d.db(), "w1");
  cr_assert_eq(crews->size(), 2u);
  cr_assert_eq((*crews)[0].agents.running, 1);
  cr_assert_eq((*crews)[1].agents.total, 0, "an empty crew is listed too");
}

// A broken agents table answers 500, never "agent not found".
Test(agent_store, store_error_is_500) {
  StoreDb d;
  d.seed();
  d.drop("agents");
  test::expect_store_failure(store::find_agent(d.db(), "a1", "w1", "").problem());
  test::expect_store_failure(store::get_agent(d.db(), "a1", "w1").problem());
  test::expect_store_failure(store::list_agents(d.db(), "w1", std::nullopt, 10, 0).problem());
  test::expect_store_failure(store::load_agent_for_edit(d.db(), "a1", "w1", "u1").problem());
  test::expect_store_failure(store::insert_agent(d.db(), "a1", "w1", "u1", "t", fields("x")).problem());
  test::expect_store_failure(store::workspace_load(d.db(), "w1").problem());
  test::expect_store_failure(store::crew_loads(d.db(), "w1").problem());
}

// A stop marks an agent STOPPED, but a hire pending review stays pending:
// only its approval releases it.
Test(agent_store, a_stop_does_not_release_a_pending_hire) {
  StoreDb d;
  d.seed_agent();
  d.exec("INSERT INTO agents(id, workspace_id, crew_id, name, slug, status, ephemeral, created_at, updated_at)"
         " VALUES ('a2', 'w1', 'c1', 'Hired', 'hired', 'PENDING_REVIEW', 1, 't', 't')");
  cr_assert_eq(store::mark_agent_stopped(d.db(), "a1"), SQLITE_OK);
  cr_assert_eq(store::mark_agent_stopped(d.db(), "a2"), SQLITE_OK);
  cr_assert_str_eq(store::get_agent(d.db(), "a1", "w1")->status.c_str(), "STOPPED");
  cr_assert_str_eq(store::get_agent(d.db(), "a2", "w1")->status.c_str(), "PENDING_REVIEW");
}
