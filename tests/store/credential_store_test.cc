#include "store/credential_store.h"

#include <criterion/criterion.h>

#include "tests/store/store_db.h"

using namespace crewship;
using namespace crewship::test;

TestSuite(credential_store);

Test(credential_store, credentials_to_inject_pick_one_per_name) {
  StoreDb d;
  d.seed_agent();
  for (const char* id : {"k1", "k2", "k3", "k4"})
    cr_assert(store::insert_credential(d.db(), {id, "w1", "N", "CUSTOM", "SECRET", "h", "t", "t"},
                                       std::string("sealed-") + id, "u1")
                  .ok());
  auto assign = [&](const char* id, const char* cred, const char* env, int64_t priority) {
    store::CredentialAssignment a;
    a.id = id, a.agent_id = "a1", a.credential_id = cred, a.env_var_name = env, a.priority = priority, a.created_at = "t";
    auto r = store::insert_credential_assignment(d.db(), a);
    cr_assert(r.ok() && *r);
  };
  assign("g1", "k1", "TOKEN", 1);
  assign("g2", "k2", "TOKEN", 5);
  assign("g3", "k3", "TIE", 0);
  assign("g4", "k4", "TIE", 0);
  store::CredentialAssignment dup;
  dup.id = "g5", dup.agent_id = "a1", dup.credential_id = "k1", dup.env_var_name = "OTHER", dup.created_at = "t";
  auto again = store::insert_credential_assignment(d.db(), dup);
  cr_assert(again.ok() && !*again, "one assignment per credential and agent");
  auto env = store::credentials_to_inject(d.db(), "a1");
  cr_assert(env.ok());
  cr_assert_eq(env->size(), 2u);
  cr_assert_eq((*env)[0].env_var_name, "TIE");
  cr_assert_eq((*env)[0].sealed, "sealed-k3", "the earliest of equal priority");
  cr_assert_eq((*env)[1].sealed, "sealed-k2", "the highest priority");
  cr_assert(store::delete_credential(d.db(), "k2", "t2").ok());
  env = store::credentials_to_inject(d.db(), "a1");
  cr_assert_eq((*env)[1].sealed, "sealed-k1", "a deleted credential gives way");
}
