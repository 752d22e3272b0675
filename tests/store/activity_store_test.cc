#include "store/activity_store.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "tests/store/store_db.h"

using namespace crewship;
using store::ActivitySource;
using test::StoreDb;

TestSuite(activity_store);

namespace {

std::string at(int second) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "2026-01-01T00:%02d:%02d.000000000Z", second / 60, second % 60);
  return buf;
}

// w1 with crews c1 (agent a1) and c2 (agent a2), and rows of every source:
// 22 in the workspace, several at the same time, 13 of them about c1.
void fill(StoreDb& d) {
  d.seed_agent();
  d.exec("INSERT INTO crews(id, workspace_id, name, slug, created_at, updated_at)"
         " VALUES ('c2', 'w1', 'Two', 'two', 't', 't');"
         "INSERT INTO agents(id, workspace_id, crew_id, name, slug, created_at, updated_at)"
         " VALUES ('a2', 'w1', 'c2', 'B', 'b', 't', 't');"
         // Another workspace's rows are never read.
         "INSERT INTO workspaces(id, name, slug, created_at, updated_at) VALUES ('w2', 'W2', 'w2', 't', 't');"
         "INSERT INTO crews(id, workspace_id, name, slug, created_at, updated_at)"
         " VALUES ('c9', 'w2', 'Nine', 'nine', 't', 't');"
         "INSERT INTO agents(id, workspace_id, crew_id, name, slug, created_at, updated_at)"
         " VALUES ('a9', 'w2', 'c9', 'Z', 'z', 't', 't');");
  auto audit = [&](const char* id, const char* type, const char* target, int s, const char* ws = "w1") {
    d.exec(std::string("INSERT INTO audit_logs(id, workspace_id, action, target_type, target_id, details,"
                       " created_at) VALUES ('") + id + "', '" + ws + "', 'x.change', '" + type + "', '" + target +
           "', '{\"k\":1}', '" + at(s) + "')");
  };
  audit("au1", "crew", "c1", 1);
  audit("au2", "agent", "a1", 5);
  audit("au3", "credential", "cr1", 5);
  audit("au4", "agent", "a2", 9);
  audit("au5", "agent", "a2", 9);
  audit("au9", "agent", "a9", 9, "w2");
  auto journal = [&](const char* agent, const char* crew, int s, const char* ws = "w1") {
    d.exec(std::string("INSERT INTO journal(workspace_id, crew_id, agent_id, kind, payload, created_at) VALUES ('") +
           ws + "', '" + crew + "', '" + agent + "', 'agent.status_change',"
           " '{\"status\":\"busy\",\"prev\":\"online\",\"details\":{}}', '" + at(s) + "')");
  };
  for (int s : {2, 5, 5, 7, 11}) journal("a1", "c1", s);
  for (int s : {3, 9, 12}) journal("a2", "c2", s);
  journal("a9", "c9", 9, "w2");
  d.exec("INSERT INTO journal(workspace_id, crew_id, agent_id, kind, payload, created_at)"
         " VALUES ('w1', 'c1', 'a1', 'other.kind', '{}', '" + at(8) + "')");
  // A damaged payload is shown as nulls, and the page is served.
  d.exec("UPDATE journal SET payload = 'not json' WHERE id = 1");
  d.exec("UPDATE audit_logs SET details = '{broken' WHERE id = 'au4'");
  auto run = [&](const char* id, const char* agent, const char* crew, int start, int end) {
    d.exec(std::string("INSERT INTO agent_runs(id, agent_id, workspace_id, crew_id, cmd, status, exit_code,"
                       " started_at, ended_at) VALUES ('") + id + "', '" + agent + "', 'w1', '" + crew +
           "', '[]', " + (end < 0 ? "'RUNNING', NULL, '" + at(start) + "', NULL)"
                                  : "'FAILED', 3, '" + at(start) + "', '" + at(end) + "')"));
  };
  run("r1", "a1", "c1", 4, 5);
  run("r2", "a2", "c2", 6, 10);
  run("r3", "a1", "c1", 12, -1);
  auto inbox = [&](const char* id, const char* agent, int s) {
    d.exec(std::string("INSERT INTO inbox_items(id, workspace_id, agent_id, kind, blocking, payload, created_at)"
                       " VALUES ('") + id + "', 'w1', '" + agent + "', 'hire_approval', 1, '{\"n\":1}', '" +
           at(s) + "')");
  };
  inbox("i1", "a1", 5);
  inbox("i2", "a2", 12);
  inbox("i3", "a1", 13);
  // Stamped in whole seconds: it sorts as its text does, after the second's
  // fractions, and every source reads it the same way.
  d.exec("INSERT INTO inbox_items(id, workspace_id, agent_id, kind, created_at)"
         " VALUES ('i4', 'w1', 'a1', 'visibility', '2026-01-01T00:00:05Z')");
}

std::vector<store::ActivityRow> page(StoreDb& d, const std::string& crew, int64_t limit,
                                     const std::optional<store::ActivityKey>& before, bool* more) {
  store::ActivityQuery q;
  q.workspace_id = "w1";
  q.crew_id = crew;
  q.limit = limit;
  q.before = before;
  auto p = store::read_activity(d.db(), q);
  cr_assert(p.ok(), "%s", p.ok() ? "" : p.problem().cause.c_str());
  *more = p->more;
  return p->rows;
}

// Every page of limit rows, walked by cursor: the rows in order.
std::vector<store::ActivityRow> walk(StoreDb& d, const std::string& crew, int64_t limit) {
  std::vector<store::ActivityRow> all;
  std::optional<store::ActivityKey> before;
  for (int pages = 0; pages < 100; ++pages) {
    bool more = false;
    auto rows = page(d, crew, limit, before, &more);
    cr_assert_leq(static_cast<int64_t>(rows.size()), limit);
    all.insert(all.end(), rows.begin(), rows.end());
    if (!more) return all;
    cr_assert_eq(static_cast<int64_t>(rows.size()), limit, "a page with more after it is full");
    before = rows.back().key;
  }
  cr_assert_fail("the walk did not end");
  return all;
}

void expect_feed_order(const std::vector<store::ActivityRow>& rows) {
  for (size_t i = 1; i < rows.size(); ++i)
    cr_assert(store::feed_before(rows[i - 1].key, rows[i].key), "row %zu (%s) before row %zu (%s)", i - 1,
              rows[i - 1].id.c_str(), i, rows[i].id.c_str());
}

std::string ids_of(const std::vector<store::ActivityRow>& rows) {
  std::string out;
  for (const auto& r : rows) out += std::to_string(static_cast<int>(r.key.source)) + ":" + r.id + " ";
  return out;
}

}  // namespace

// Each source is read from an index, never a scan of its table, and in the
// index's order, so a page reads limit + 1 rows a source (by crew: a target).
Test(activity_store, every_source_reads_an_index) {
  StoreDb d;
  for (int i = 0; i < store::kActivitySources; ++i) {
    for (bool by_crew : {false, true}) {
      std::string sql = std::string("EXPLAIN QUERY PLAN ") + store::activity_sql(static_cast<ActivitySource>(i), by_crew);
      sqlite3_stmt* s = nullptr;
      cr_assert_eq(sqlite3_prepare_v2(d.db().db(), sql.c_str(), -1, &s, nullptr), SQLITE_OK, "%s",
                   sqlite3_errmsg(d.db().db()));
      std::string plan;
      while (sqlite3_step(s) == SQLITE_ROW) plan += std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 3))) + "\n";
      sqlite3_finalize(s);
      cr_assert(plan.find("SCAN ") == std::string::npos, "source %d (crew %d) scans:\n%s", i, by_crew, plan.c_str());
      cr_assert(plan.find("USING INDEX") != std::string::npos || plan.find("USING COVERING INDEX") != std::string::npos,
                "source %d:\n%s", i, plan.c_str());
      cr_assert(plan.find("TEMP B-TREE") == std::string::npos, "source %d (crew %d) sorts:\n%s", i, by_crew,
                plan.c_str());
      if (i == static_cast<int>(ActivitySource::kPresence))
        cr_assert(plan.find(by_crew ? "journal_crew_activity" : "journal_activity") != std::string::npos, "%s",
                  plan.c_str());
    }
  }
}

Test(activity_store, sources_merge_newest_first_and_pages_neither_repeat_nor_skip) {
  StoreDb d;
  fill(d);
  bool more = true;
  auto all = page(d, "", 200, std::nullopt, &more);
  cr_assert_not(more);
  // 5 audit + 8 transitions + 3 starts + 2 ends + 4 inbox items.
  cr_assert_eq(all.size(), 22u, "%s", ids_of(all).c_str());
  expect_feed_order(all);
  cr_assert_str_eq(all[0].id.c_str(), "i3");
  cr_assert_eq(all[0].key.source, ActivitySource::kInbox);
  cr_assert_str_eq(all[0].crew_id.c_str(), "c1");
  cr_assert_str_eq(all[0].agent_name.c_str(), "A");
  cr_assert_str_eq(all.back().id.c_str(), "au1");
  cr_assert_str_eq(all.back().crew_id.c_str(), "c1", "an audit row about a crew is that crew's");
  for (const auto& r : all) {
    cr_assert_eq(r.data.front(), '{', "%s", r.data.c_str());
    cr_assert(r.key.at.size() == 30u || r.id == "i4", "%s", r.key.at.c_str());
  }
  auto damaged = std::find_if(all.begin(), all.end(), [](const store::ActivityRow& r) {
    return r.key.source == ActivitySource::kPresence && r.id == "1";
  });
  cr_assert(damaged != all.end() && damaged->data.find("\"status\":null") != std::string::npos, "%s",
            damaged->data.c_str());
  auto i4 = std::find_if(all.begin(), all.end(), [](const store::ActivityRow& r) { return r.id == "i4"; });
  cr_assert(i4 != all.end() && (i4 + 1)->key.at == at(5) && (i4 - 1)->key.at == at(6), "%s", ids_of(all).c_str());
  // The five rows at 00:05, in source order, then row order.
  std::string at5;
  for (const auto& r : all)
    if (r.key.at == at(5)) at5 += std::to_string(static_cast<int>(r.key.source)) + ":" + r.id + " ";
  cr_assert(at5.find("4:i1 3:r1 1:") == 0 && at5.find("0:au3 0:au2") != std::string::npos, "%s", at5.c_str());

  for (int64_t limit : {1, 2, 3, 5, 20}) {
    std::string walked = ids_of(walk(d, "", limit)), want = ids_of(all);
    cr_assert(walked == want, "limit %ld: %s", static_cast<long>(limit), walked.c_str());
  }
}

Test(activity_store, one_crew) {
  StoreDb d;
  fill(d);
  bool more = true;
  auto c1 = page(d, "c1", 200, std::nullopt, &more);
  // au1 (the crew), au2 (its agent), 5 transitions, r1 and r3 started, r1
  // ended, i1, i3 and i4.
  cr_assert_eq(c1.size(), 13u, "%s", ids_of(c1).c_str());
  expect_feed_order(c1);
  for (const auto& r : c1) cr_assert_str_eq(r.crew_id.c_str(), "c1", "%s", r.id.c_str());
  for (int64_t limit : {1, 4}) {
    std::string walked = ids_of(walk(d, "c1", limit)), want = ids_of(c1);
    cr_assert(walked == want, "limit %ld: %s\nwant %s", static_cast<long>(limit), walked.c_str(), want.c_str());
  }
  auto c2 = page(d, "c2", 200, std::nullopt, &more);
  cr_assert_eq(c2.size(), 8u, "%s", ids_of(c2).c_str());
}

Test(activity_store, a_store_failure_is_a_500) {
  StoreDb d;
  fill(d);
  d.drop("agent_runs");
  store::ActivityQuery q;
  q.workspace_id = "w1";
  auto p = store::read_activity(d.db(), q);
  cr_assert_not(p.ok());
  test::expect_store_failure(p.problem());
}
