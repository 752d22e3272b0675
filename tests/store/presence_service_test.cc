// The presence service and the run store on a real database, without sockets:
// what a write commits, what observers and the roster see, and sweeps.
#include <criterion/criterion.h>

#include "store/presence_service.h"
#include "store/run_store.h"
#include "store/store.h"
#include "tests/support/harness.h"

using namespace crewship;

namespace {

struct Fixture {
  std::string dir = test::make_temp_dir();
  uv_loop_t loop;
  store::Store db;
  store::PresenceService presence{db};
  std::vector<store::PresenceChange> seen;

  Fixture() {
    uv_loop_init(&loop);
    std::string error;
    cr_assert_eq(db.open(&loop, dir, 64, &error), 0, "%s", error.c_str());
    presence.observe([this](const store::PresenceChange& c) { seen.push_back(c); });
    write([](store::Connection& c) {
      return c.exec(
          "INSERT INTO workspaces VALUES ('w1', 'W', 'w', 't', 't');"
          "INSERT INTO crews (id, workspace_id, name, slug, created_at, updated_at) VALUES ('c1', 'w1', 'C', 'c', 't', 't');"
          "INSERT INTO agents (id, workspace_id, crew_id, name, slug, created_at, updated_at)"
          " VALUES ('a1', 'w1', 'c1', 'A', 'a', 't', 't'), ('a2', 'w1', 'c1', 'B', 'b', 't', 't');");
    });
  }
  ~Fixture() {
    bool closed = false;
    db.close([&] { closed = true; });
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert(closed);
    uv_loop_close(&loop);
    test::remove_tree(dir);
  }
  // Runs the loop until done is set.
  void wait(const bool& done) {
    while (!done) uv_run(&loop, UV_RUN_ONCE);
  }
  void write(store::Writer::Work work) {
    bool done = false;
    int rc = -1;
    db.writer().submit(std::move(work), [&](int r) {
      rc = r;
      done = true;
    });
    wait(done);
    cr_assert_eq(rc, SQLITE_OK);
  }
  Status set(const std::string& agent, const std::string& status, store::PresenceService::Also also = {},
             store::PresenceChange* out = nullptr) {
    bool done = false;
    Status result;
    presence.set({agent, "w1", "c1", status, R"({"k":1})", false},
                 [&](Status st, const store::PresenceChange& c) {
                   result = std::move(st);
                   if (out != nullptr) *out = c;
                   done = true;
                 },
                 std::move(also));
    wait(done);
    return result;
  }
  // The first column of the first row of sql is want ("<none>": no row).
  void expect(const char* sql, const char* want) {
    auto s = db.reader().prepare(sql);
    std::string got = s.step() == SQLITE_ROW ? std::string(s.text(0)) : std::string("<none>");
    cr_assert_str_eq(got.c_str(), want, "%s", sql);
  }
};

}  // namespace

Test(presence_service, a_write_commits_row_journal_and_agent_status) {
  Fixture f;
  cr_assert(f.presence.roster("w1", "").ok());
  cr_assert_not_null(f.presence.cached_roster("w1", ""));
  store::PresenceChange c;
  cr_assert(f.set("a1", "busy", {}, &c).ok());
  cr_assert(c.transition, "a first write is a transition");
  cr_assert_eq(c.since.size(), 30u, "RFC 3339 with nanoseconds: %s", c.since.c_str());
  f.expect("SELECT status FROM agent_status WHERE agent_id = 'a1'", "busy");
  f.expect("SELECT status FROM agents WHERE id = 'a1'", "RUNNING");
  f.expect("SELECT count(*) FROM journal WHERE kind = 'agent.status_change'", "1");
  cr_assert_eq(f.seen.size(), 1u, "observed once");
  cr_assert_str_eq(f.seen[0].status.c_str(), "busy");
  cr_assert_str_eq(f.seen[0].details.c_str(), R"({"k":1})");
  cr_assert_null(f.presence.cached_roster("w1", ""), "the roster went stale");

  cr_assert(f.set("a1", "busy", {}, &c).ok());
  cr_assert_not(c.transition, "the same status again");
  f.expect("SELECT count(*) FROM journal", "1");
  cr_assert_eq(f.seen.size(), 2u, "every committed write is observed");
}

Test(presence_service, a_failing_companion_undoes_the_write) {
  Fixture f;
  Status st = f.set("a1", "busy", [](store::Connection&, const store::PresenceWrite&) { return SQLITE_CONSTRAINT; });
  cr_assert_not(st.ok());
  cr_assert_eq(st.problem().status, 500, "a store failure is a 500");
  f.expect("SELECT status FROM agent_status WHERE agent_id = 'a1'", "<none>");
  cr_assert(f.seen.empty(), "nothing committed, nothing observed");
}

Test(presence_service, runs_commit_with_presence) {
  Fixture f;
  cr_assert(f.set("a1", "busy", [](store::Connection& c, const store::PresenceWrite& w) {
               return store::insert_run(c, {"r1", w.agent_id, w.workspace_id, w.crew_id, "", R"(["true"])", w.since});
             }).ok());
  cr_assert(f.set("a1", "online", [](store::Connection& c, const store::PresenceWrite& w) {
               if (int rc = store::end_run(c, "r1", "FAILED", 3, "boom", w.since); rc != SQLITE_OK) return rc;
               return store::mark_agent_stopped(c, w.agent_id);
             }).ok());
  auto runs = store::list_runs(f.db.reader(), "a1", 10, 0);
  cr_assert(runs.ok());
  cr_assert_eq(runs->size(), 1u);
  const store::RunRow& r = (*runs)[0];
  cr_assert_str_eq(r.status.c_str(), "FAILED");
  cr_assert_eq(*r.exit_code, 3);
  cr_assert_str_eq(r.error.c_str(), "boom");
  cr_assert(r.chat_id.empty());
  f.expect("SELECT status FROM agents WHERE id = 'a1'", "STOPPED");
  auto latest = store::latest_run(f.db.reader(), "a1");
  cr_assert(latest.ok() && latest->has_value());
  cr_assert(store::latest_run(f.db.reader(), "a2")->has_value() == false);

  cr_assert(f.set("a1", "busy", [](store::Connection& c, const store::PresenceWrite& w) {
               return store::insert_run(c, {"r2", w.agent_id, w.workspace_id, w.crew_id, "chat", "[]", w.since});
             }).ok());
  f.write([](store::Connection& c) { return store::mark_lost_runs(c, "t"); });
  f.expect("SELECT status FROM agent_runs WHERE id = 'r2'", "LOST");
}

Test(presence_service, sweeps_and_crew_exits_go_offline) {
  Fixture f;
  cr_assert(f.set("a1", "busy").ok());
  cr_assert(f.set("a2", "online").ok());
  f.seen.clear();
  bool done = false;
  size_t swept = 99;
  f.presence.sweep(60'000, R"({"reason":"idle_timeout"})", [&](Result<size_t> n) {
    swept = *n;
    done = true;
  });
  f.wait(done);
  cr_assert_eq(swept, 0u, "fresh rows stay");

  f.write([](store::Connection& c) { return c.exec("UPDATE agent_status SET last_seen = 0 WHERE agent_id = 'a1'"); });
  done = false;
  f.presence.sweep(60'000, R"({"reason":"idle_timeout"})", [&](Result<size_t> n) {
    swept = *n;
    done = true;
  });
  f.wait(done);
  cr_assert_eq(swept, 1u);
  cr_assert_eq(f.seen.size(), 1u);
  cr_assert_str_eq(f.seen[0].agent_id.c_str(), "a1");
  cr_assert_str_eq(f.seen[0].status.c_str(), "offline");
  cr_assert_str_eq(f.seen[0].crew_id.c_str(), "c1");

  done = false;
  f.presence.offline_crew("c1", R"({"reason":"container_exit","exit_code":137})", [&](Result<size_t> n) {
    swept = *n;
    done = true;
  });
  f.wait(done);
  cr_assert_eq(swept, 1u, "only a2 was not offline");
  f.expect("SELECT details FROM agent_status WHERE agent_id = 'a2'", R"({"reason":"container_exit","exit_code":137})");

  done = false;
  int updated = -1;
  f.presence.heartbeat({"a1", "a2", "nobody"}, [&](Result<int> n) {
    updated = *n;
    done = true;
  });
  f.wait(done);
  cr_assert_eq(updated, 2);
}

namespace {

// The roster as a service that holds nothing yet reads it from the store.
std::string from_store(Fixture& f, const std::string& crew) {
  store::PresenceService fresh{f.db};
  auto r = fresh.roster("w1", crew);
  cr_assert(r.ok());
  return *(*r)->body;
}

std::string roster(Fixture& f, const std::string& crew = "") {
  auto r = f.presence.roster("w1", crew);
  cr_assert(r.ok());
  return *(*r)->body;
}

void same(const std::string& got, const std::string& want) {
  cr_assert(got == want, "got  %s\nwant %s", got.c_str(), want.c_str());
}

}  // namespace

Test(presence_service, the_roster_follows_writes_without_reading_the_store_again) {
  Fixture f;
  cr_assert(f.set("a1", "busy").ok());
  cr_assert(f.set("a2", "online").ok());
  same(roster(f), from_store(f, ""));
  uint64_t loads = f.presence.roster_loads();

  const store::PresenceService::Roster* before = f.presence.cached_roster("w1", "");
  cr_assert_not_null(before);
  std::shared_ptr<const std::string> shared = before->body;
  cr_assert_eq(f.presence.cached_roster("w1", "")->body.get(), shared.get(), "one body for every reader");

  cr_assert(f.set("a1", "blocked").ok());
  cr_assert_null(f.presence.cached_roster("w1", ""), "a write makes the cached answer stale");
  std::string after = roster(f);
  same(after, from_store(f, ""));
  same(roster(f, "c1"), from_store(f, "c1"));
  cr_assert(after.find(R"("status":"blocked")") != std::string::npos, "%s", after.c_str());
  cr_assert(after.find(R"("agent_id":"a1")") < after.find(R"("agent_id":"a2")"), "newest first: %s", after.c_str());
  cr_assert_eq(f.presence.roster_loads(), loads, "updated in memory, not read again");
  cr_assert_str_neq(shared->c_str(), after.c_str(), "an answer being sent never changes");

  // Sweeps apply row by row too.
  f.write([](store::Connection& c) { return c.exec("UPDATE agent_status SET last_seen = 0 WHERE agent_id = 'a2'"); });
  bool done = false;
  f.presence.sweep(60'000, R"({"reason":"idle_timeout"})", [&](Result<size_t>) { done = true; });
  f.wait(done);
  same(roster(f), from_store(f, ""));
  cr_assert_eq(f.presence.roster_loads(), loads);
}

Test(presence_service, the_store_decides_for_agents_the_roster_does_not_show) {
  Fixture f;
  cr_assert(f.set("a1", "busy").ok());
  same(roster(f), from_store(f, ""));
  uint64_t loads = f.presence.roster_loads();

  // a2's first write: read again.
  cr_assert(f.set("a2", "online").ok());
  std::string two = roster(f);
  same(two, from_store(f, ""));
  cr_assert(two.find(R"("count":2)") != std::string::npos, "%s", two.c_str());
  cr_assert_eq(f.presence.roster_loads(), loads + 1);

  // An agent deleted (then invalidated, as its handler does) leaves the roster.
  f.write([](store::Connection& c) { return c.exec("UPDATE agents SET deleted_at = 't' WHERE id = 'a2'"); });
  f.presence.invalidate("w1");
  cr_assert_null(f.presence.cached_roster("w1", ""));
  std::string one = roster(f);
  cr_assert(one.find(R"("count":1)") != std::string::npos, "%s", one.c_str());
  cr_assert_eq(f.presence.roster_loads(), loads + 2);
  // A later sweep of the deleted agent's row keeps it off.
  f.write([](store::Connection& c) { return c.exec("UPDATE agent_status SET last_seen = 0 WHERE agent_id = 'a2'"); });
  bool done = false;
  f.presence.sweep(60'000, R"({"reason":"idle_timeout"})", [&](Result<size_t>) { done = true; });
  f.wait(done);
  same(roster(f), from_store(f, ""));
  cr_assert(roster(f).find(R"("agent_id":"a2")") == std::string::npos);
}

Test(presence_service, a_roster_read_while_writes_are_under_way_is_read_again) {
  Fixture f;
  cr_assert(f.set("a1", "busy").ok());
  cr_assert(f.set("a2", "busy").ok());
  // A write submitted, not yet done: what the store shows may or may not hold it.
  bool done = false;
  f.presence.set({"a1", "w1", "c1", "online", "", false}, [&](Status, const store::PresenceChange&) { done = true; });
  uint64_t loads = f.presence.roster_loads();
  cr_assert(f.presence.roster("w1", "").ok());
  cr_assert_eq(f.presence.roster_loads(), loads + 1);
  f.wait(done);
  std::string now = roster(f);
  cr_assert_eq(f.presence.roster_loads(), loads + 2, "not kept as the mirror");
  same(now, from_store(f, ""));
  cr_assert(now.find(R"("status":"online")") != std::string::npos, "%s", now.c_str());
  // Nothing under way now: the next write is applied in memory.
  cr_assert(f.set("a2", "blocked").ok());
  same(roster(f), from_store(f, ""));
  cr_assert_eq(f.presence.roster_loads(), loads + 2);
}

Test(presence_service, the_same_status_again_moves_since_details_and_crew) {
  Fixture f;
  store::PresenceChange first, again;
  cr_assert(f.set("a1", "busy", {}, &first).ok());
  f.write([](store::Connection& c) { return c.exec("UPDATE agent_status SET last_seen = 5 WHERE agent_id = 'a1'"); });
  bool done = false;
  f.presence.set({"a1", "w1", "c1", "busy", "", false}, [&](Status st, const store::PresenceChange& c) {
    cr_assert(st.ok());
    again = c;
    done = true;
  });
  f.wait(done);
  cr_assert_not(again.transition);
  cr_assert(again.since > first.since, "%s then %s", first.since.c_str(), again.since.c_str());
  f.expect("SELECT since = (SELECT max(since) FROM agent_status) AND last_seen > 5 FROM agent_status WHERE agent_id = 'a1'", "1");
  f.expect("SELECT coalesce(details, 'null') FROM agent_status WHERE agent_id = 'a1'", "null");
  f.expect("SELECT count(*) FROM journal", "1");
  // Out of its crew, the same status: the row follows.
  done = false;
  f.presence.set({"a1", "w1", "", "busy", R"({"k":2})", false}, [&](Status st, const store::PresenceChange&) {
    cr_assert(st.ok());
    done = true;
  });
  f.wait(done);
  f.expect("SELECT coalesce(crew_id, 'none') || ' ' || details FROM agent_status WHERE agent_id = 'a1'", "none {\"k\":2}");
  f.expect("SELECT count(*) FROM agent_status WHERE crew_id IS NULL AND status = 'busy'", "1");
}
