// The hire store: the crew's policy by id or slug, the quota counting live
// hires only, the approval flipping a pending hire once, the sweep's due
// list and its conditional expiry, and a damaged store being a 500.
#include "store/agent_store.h"
#include "store/hire_store.h"

#include "tests/store/store_db.h"

using namespace crewship;
using test::StoreDb;

namespace {

// Ephemeral agent id of crew c1, due at expires_at, ghost when expired_at.
void hired(StoreDb& d, const std::string& id, const std::string& expires_at, const std::string& expired_at = "",
           const std::string& status = "IDLE") {
  d.exec("INSERT INTO agents(id, workspace_id, crew_id, name, slug, status, ephemeral, expires_at, expired_at,"
         " created_at, updated_at) VALUES ('" + id + "', 'w1', 'c1', 'H', '" + id + "', '" + status + "', 1, '" +
         expires_at + "', " + (expired_at.empty() ? "NULL" : "'" + expired_at + "'") + ", 't', 't')");
}

}  // namespace

TestSuite(hire_store);

Test(hire_store, policy_quota_and_lead) {
  StoreDb d;
  d.seed_agent();
  d.exec("UPDATE crews SET autonomy_level = 'trusted', max_ephemeral_agents = 2 WHERE id = 'c1'");
  auto by_id = store::crew_policy(d.db(), "w1", "c1", "");
  cr_assert(by_id.ok());
  cr_assert_eq(by_id->autonomy_level, "trusted");
  cr_assert_eq(by_id->max_ephemeral_agents, 2);
  auto by_slug = store::crew_policy(d.db(), "w1", "", "crew");
  cr_assert(by_slug.ok() && by_slug->id == "c1");
  cr_assert_eq(store::crew_policy(d.db(), "w2", "c1", "").problem().status, 404);
  cr_assert_eq(store::crew_policy(d.db(), "w1", "", "nope").problem().status, 404);

  hired(d, "e1", "2030-01-01T00:00:00Z");
  hired(d, "e2", "2030-01-01T00:00:00Z", "2026-01-01T00:00:00Z");
  cr_assert_eq(*store::live_ephemerals(d.db(), "c1"), 1, "a1 is permanent, e2 a ghost");
  d.exec("UPDATE agents SET deleted_at = 't' WHERE id = 'e1'");
  cr_assert_eq(*store::live_ephemerals(d.db(), "c1"), 0);

  cr_assert_not(*store::is_crew_lead(d.db(), "a1", "w1", "c1"));
  d.exec("UPDATE agents SET agent_role = 'LEAD' WHERE id = 'a1'");
  cr_assert(*store::is_crew_lead(d.db(), "a1", "w1", "c1"));
  cr_assert_not(*store::is_crew_lead(d.db(), "a1", "w2", "c1"));
}

Test(hire_store, approval_flips_once) {
  StoreDb d;
  d.seed_agent();
  hired(d, "p1", "2030-01-01T00:00:00Z", "", "PENDING_REVIEW");
  cr_assert(*store::approve_pending(d.db(), "p1", "w1", "2026-06-01T00:00:00Z"));
  cr_assert_not(*store::approve_pending(d.db(), "p1", "w1", "2026-06-01T00:00:01Z"), "approved already");
  cr_assert_not(*store::approve_pending(d.db(), "a1", "w1", "2026-06-01T00:00:01Z"), "a permanent agent");
  auto e = store::load_ephemeral(d.db(), "p1", "w1");
  cr_assert(e.ok());
  cr_assert_eq(e->agent.status, "IDLE");
  cr_assert(e->ephemeral);
  cr_assert_eq(*e->expires_at, "2030-01-01T00:00:00Z");
  cr_assert_not(e->expired_at.has_value());
  cr_assert_eq(store::load_ephemeral(d.db(), "p1", "w2").problem().status, 404);
}

Test(hire_store, due_and_expire) {
  StoreDb d;
  d.seed_agent();
  hired(d, "late", "2026-01-01T00:00:02Z");
  hired(d, "early", "2026-01-01T00:00:01Z");
  hired(d, "later", "2030-01-01T00:00:00Z");
  hired(d, "ghost", "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z");
  auto due = store::due_ephemerals(d.db(), "2026-06-01T00:00:00Z", 10);
  cr_assert(due.ok());
  cr_assert_eq(due->size(), 2u);
  cr_assert_eq((*due)[0].id, "early", "oldest deadline first");
  cr_assert_eq((*due)[1].id, "late");
  cr_assert_eq(store::due_ephemerals(d.db(), "2026-06-01T00:00:00Z", 1)->size(), 1u);

  cr_assert(*store::expire_ephemeral(d.db(), "early", "2026-06-01T00:00:00Z"));
  cr_assert_not(*store::expire_ephemeral(d.db(), "early", "2026-06-01T00:00:01Z"), "a ghost already");
  cr_assert_not(*store::expire_ephemeral(d.db(), "later", "2026-06-01T00:00:00Z"), "not due");
  cr_assert(store::extend_ephemeral(d.db(), "early", "2031-01-01T00:00:00Z", "log", "2026-06-01T00:00:02Z").ok());
  auto back = store::load_ephemeral(d.db(), "early", "w1");
  cr_assert_not(back->expired_at.has_value(), "a rehired ghost lives again");
  cr_assert_eq(*back->hire_reason, "log");
  cr_assert_eq(store::due_ephemerals(d.db(), "2026-06-01T00:00:00Z", 10)->size(), 1u);
}

// Past its TTL, an ephemeral is expired before the sweep makes it a ghost:
// it may not start a run in between.
Test(hire_store, past_its_ttl_is_expired_before_the_sweep) {
  StoreDb d;
  d.seed_agent();
  hired(d, "due", "2026-01-01T00:00:00.5Z");
  hired(d, "later", "2999-01-01T00:00:00Z");
  auto due = store::find_agent(d.db(), "due", "w1", "");
  cr_assert(due.ok());
  cr_assert(due->expired, "past expires_at, not yet swept");
  auto later = store::find_agent(d.db(), "later", "w1", "");
  cr_assert(later.ok());
  cr_assert_not(later->expired);
  cr_assert(store::extend_ephemeral(d.db(), "due", "2999-01-01T00:00:00Z", "more", "2026-06-01T00:00:00Z").ok());
  cr_assert_not(store::find_agent(d.db(), "due", "w1", "")->expired, "extended, it lives again");
}

Test(hire_store, a_damaged_store_is_500) {
  StoreDb d;
  d.seed_agent();
  d.drop("journal");
  auto st = store::append_journal(d.db(), {"w1", "c1", "a1", "agent.hired", "{}"});
  cr_assert_not(st.ok());
  cr_assert_eq(st.problem().status, 500);
  d.drop("assignments");
  cr_assert_eq(store::open_assignments(d.db(), "a1").problem().status, 500);
}
