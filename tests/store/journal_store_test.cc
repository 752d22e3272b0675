#include "store/journal_store.h"

#include "tests/store/store_db.h"

using namespace crewship;
using test::StoreDb;

TestSuite(journal_store);

namespace {

// n entries, entry i created at "2026-01-01T00:00:<i>" (as text, in id order).
void add_entries(StoreDb& d, int n, const char* day = "2026-01-01") {
  for (int i = 0; i < n; ++i) {
    char sql[256];
    std::snprintf(sql, sizeof sql,
                  "INSERT INTO journal(workspace_id, agent_id, kind, payload, created_at)"
                  " VALUES ('w1', 'a1', 'agent.status_change', '{}', '%sT00:%02d:%02d.000000000Z')",
                  day, i / 60, i % 60);
    d.exec(sql);
  }
}

int64_t count(StoreDb& d) {
  auto s = d.db().prepare("SELECT count(*), coalesce(min(id), 0) FROM journal");
  cr_assert_eq(s.step(), SQLITE_ROW);
  return s.int64(0);
}

int64_t oldest_id(StoreDb& d) {
  auto s = d.db().prepare("SELECT coalesce(min(id), 0) FROM journal");
  cr_assert_eq(s.step(), SQLITE_ROW);
  return s.int64(0);
}

}  // namespace

Test(journal_store, entries_before_the_cutoff_go_a_batch_at_a_time) {
  StoreDb d;
  add_entries(d, 120);
  store::JournalPrune p;
  p.cutoff = "2026-01-01T00:01:30.000000000Z";  // entries 0..89 are older
  p.batch = 40;
  auto r = store::prune_journal(d.db(), p);
  cr_assert(r.ok());
  cr_assert_eq(*r, 40);
  cr_assert_eq(count(d), 80);
  cr_assert_eq(oldest_id(d), 41);
  cr_assert_eq(*store::prune_journal(d.db(), p), 40);
  cr_assert_eq(*store::prune_journal(d.db(), p), 10, "the last partial batch");
  cr_assert_eq(*store::prune_journal(d.db(), p), 0, "nothing older is left");
  cr_assert_eq(count(d), 30);
  cr_assert_eq(oldest_id(d), 91);
}

Test(journal_store, the_newest_max_rows_stay) {
  StoreDb d;
  add_entries(d, 100, "2999-01-01");  // none expired
  store::JournalPrune p;
  p.cutoff = "2026-01-01T00:00:00.000000000Z";
  p.max_rows = 25;
  p.batch = 30;
  cr_assert_eq(*store::prune_journal(d.db(), p), 30);
  cr_assert_eq(*store::prune_journal(d.db(), p), 30);
  cr_assert_eq(*store::prune_journal(d.db(), p), 15);
  cr_assert_eq(*store::prune_journal(d.db(), p), 0);
  cr_assert_eq(count(d), 25);
  cr_assert_eq(oldest_id(d), 76, "the oldest went first");
  p.max_rows = 0;  // no limit: nothing more goes
  cr_assert_eq(*store::prune_journal(d.db(), p), 0);
  cr_assert_eq(count(d), 25);
}

Test(journal_store, an_empty_journal_and_a_newer_entry_first) {
  StoreDb d;
  store::JournalPrune p;
  p.cutoff = "2026-06-01T00:00:00.000000000Z";
  cr_assert_eq(*store::prune_journal(d.db(), p), 0);
  add_entries(d, 3, "2026-07-01");  // newer than the cutoff
  add_entries(d, 3, "2026-01-01");  // older, behind them (the clock went back)
  p.batch = 10;
  cr_assert_eq(*store::prune_journal(d.db(), p), 3, "old entries inside the batch go");
  cr_assert_eq(count(d), 3);
}

Test(journal_store, a_broken_table_is_a_store_failure) {
  StoreDb d;
  d.drop("journal");
  store::JournalPrune p;
  p.cutoff = "2026-01-01T00:00:00.000000000Z";
  auto r = store::prune_journal(d.db(), p);
  cr_assert(!r.ok());
  test::expect_store_failure(r.problem());
}
