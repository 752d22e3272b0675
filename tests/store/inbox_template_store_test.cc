#include "store/inbox_store.h"
#include "store/template_store.h"

#include "tests/store/store_db.h"

using namespace crewship;
using test::StoreDb;

namespace {

store::InboxItem item(const char* id, const char* kind, bool blocking, const char* at) {
  store::InboxItem i;
  i.id = id;
  i.workspace_id = "w1";
  i.agent_id = "a1";
  i.kind = kind;
  i.blocking = blocking;
  i.payload = R"({"why":"test"})";
  i.created_at = at;
  return i;
}

store::CrewTemplate owned(const char* slug) {
  store::CrewTemplate t;
  t.id = std::string("t-") + slug;
  t.workspace_id = "w1";
  t.slug = slug;
  t.name = std::string("Role ") + slug;
  t.role_title = "Data Engineer";
  t.created_at = "2026-01-01T00:00:00Z";
  return t;
}

}  // namespace

TestSuite(inbox_store);

Test(inbox_store, counts_lists_and_resolves) {
  StoreDb d;
  d.seed_agent();
  cr_assert(store::insert_inbox_item(d.db(), item("i1", "hire_approval", true, "2026-01-01T00:00:01Z")).ok());
  cr_assert(store::insert_inbox_item(d.db(), item("i2", "visibility", false, "2026-01-01T00:00:02Z")).ok());
  cr_assert(store::insert_inbox_item(d.db(), item("i3", "hire_approval", true, "2026-01-01T00:00:02Z")).ok());
  cr_assert_eq(*store::count_open_blocking(d.db(), "a1"), 2);

  auto all = store::list_inbox_items(d.db(), "a1", false, 10, 0);
  cr_assert(all.ok());
  cr_assert_eq(all->size(), 3u);
  cr_assert_str_eq((*all)[0].id.c_str(), "i3");  // same time: the later insert first
  cr_assert_str_eq((*all)[2].id.c_str(), "i1");
  cr_assert((*all)[2].blocking);
  cr_assert_str_eq((*all)[2].payload.c_str(), R"({"why":"test"})");
  cr_assert_eq(store::list_inbox_items(d.db(), "a1", false, 1, 1)->at(0).id, std::string("i2"));

  auto n = store::resolve_open_inbox_items(d.db(), "a1", "hire_approval", "u1", "2026-01-01T00:00:03Z");
  cr_assert_eq(*n, 2);
  cr_assert_eq(*store::resolve_open_inbox_items(d.db(), "a1", "hire_approval", "u1", "t"), 0);
  cr_assert_eq(*store::count_open_blocking(d.db(), "a1"), 0);
  auto open = store::list_inbox_items(d.db(), "a1", true, 10, 0);
  cr_assert_eq(open->size(), 1u);
  cr_assert_str_eq((*open)[0].kind.c_str(), "visibility");
  auto done = store::list_inbox_items(d.db(), "a1", false, 10, 0);
  cr_assert((*done)[2].resolved_by.value_or("") == std::string_view("u1"));
  cr_assert_str_eq((*done)[2].status.c_str(), "resolved");
}

Test(inbox_store, a_damaged_store_is_500) {
  StoreDb d;
  d.seed_agent();
  d.drop("inbox_items");
  test::expect_store_failure(store::count_open_blocking(d.db(), "a1").problem());
  test::expect_store_failure(store::insert_inbox_item(d.db(), item("i1", "k", false, "t")).problem());
}

TestSuite(template_store);

Test(template_store, builtins_then_owned) {
  StoreDb d;
  d.seed();
  auto b = store::builtin_templates();
  cr_assert_geq(b.size(), 4u);
  for (const char* slug : {"backend-dev", "frontend-dev", "reviewer", "qa-engineer"}) {
    auto t = store::find_template(d.db(), "w1", slug);
    cr_assert(t.ok(), "%s", slug);
    cr_assert(t->built_in);
    cr_assert(t->role_title && t->system_prompt && t->llm_model, "%s lacks a field", slug);
    cr_assert_str_eq(t->cli_adapter.c_str(), "CLAUDE_CODE");
  }
  cr_assert(store::insert_template(d.db(), owned("data-eng")).ok());
  auto all = store::list_templates(d.db(), "w1");
  cr_assert_eq(all->size(), b.size() + 1);
  cr_assert_str_eq(all->back().slug.c_str(), "data-eng");
  cr_assert(!all->back().built_in);
  auto got = store::find_template(d.db(), "w1", "data-eng");
  cr_assert(got.ok());
  cr_assert(got->role_title.value_or("") == std::string_view("Data Engineer"));
  test::expect_status(store::find_template(d.db(), "w2", "data-eng"), 404);  // another workspace's
  test::expect_status(store::find_template(d.db(), "w1", "nope"), 404);
}

Test(template_store, a_taken_slug_is_409) {
  StoreDb d;
  d.seed();
  cr_assert(store::insert_template(d.db(), owned("data-eng")).ok());
  auto again = owned("data-eng");
  again.id = "t-other";
  cr_assert_eq(store::insert_template(d.db(), again).problem().status, 409);
  auto shadow = owned("reviewer");
  cr_assert_eq(store::insert_template(d.db(), shadow).problem().status, 409);
}
