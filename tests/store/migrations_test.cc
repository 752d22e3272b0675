#include <criterion/criterion.h>

#include "store/db.h"
#include "store/migrations.h"
#include "tests/support/harness.h"

using namespace crewship;
using store::Connection;

namespace {

std::unique_ptr<Connection> open_db(const std::string& path) {
  std::unique_ptr<Connection> c;
  std::string error;
  cr_assert_eq(Connection::open(path, Connection::Mode::kWrite, &c, &error), SQLITE_OK, "%s",
               error.c_str());
  return c;
}

// The schema as text: every object's SQL, sorted by type and name.
std::string schema(Connection& c) {
  std::string out;
  auto s = c.prepare("SELECT type, name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name");
  while (s.step() == SQLITE_ROW) {
    out += s.text(0);
    out += ' ';
    out += s.text(1);
    out += ": ";
    out += s.text(2);
    out += '\n';
  }
  return out;
}

struct TempDir {
  std::string path = test::make_temp_dir();
  ~TempDir() { test::remove_tree(path); }
};

}  // namespace

TestSuite(migrations);

Test(migrations, versions_are_dense_and_ordered) {
  int expect = 1;
  for (const store::Migration& m : store::migrations()) cr_assert_eq(m.version, expect++);
  cr_assert_eq(store::latest_version(), expect - 1);
}

Test(migrations, from_empty_file) {
  TempDir dir;
  auto c = open_db(dir.path + "/db");
  cr_assert_eq(store::schema_version(*c), 0);
  std::string error;
  cr_assert_eq(store::migrate(*c, &error), SQLITE_OK, "%s", error.c_str());
  cr_assert_eq(store::schema_version(*c), store::latest_version());
  auto s = c->prepare("SELECT value FROM meta WHERE key = 'instance_id'");
  cr_assert_eq(s.step(), SQLITE_ROW);
  cr_assert_eq(s.text(0).size(), 32u);
  // Running again is a no-op.
  std::string before = schema(*c);
  cr_assert_eq(store::migrate(*c, &error), SQLITE_OK, "%s", error.c_str());
  cr_assert_eq(schema(*c), before);
}

// Every database a released binary may have left behind reaches the same
// schema as a fresh one.
Test(migrations, from_each_previous_version) {
  TempDir dir;
  auto fresh = open_db(dir.path + "/fresh");
  std::string error;
  cr_assert_eq(store::migrate(*fresh, &error), SQLITE_OK, "%s", error.c_str());
  std::string want = schema(*fresh);
  for (int v = 0; v < store::latest_version(); ++v) {
    auto c = open_db(dir.path + "/from" + std::to_string(v));
    cr_assert_eq(store::migrate(*c, &error, v), SQLITE_OK, "%s", error.c_str());
    cr_assert_eq(store::schema_version(*c), v);
    cr_assert_eq(store::migrate(*c, &error), SQLITE_OK, "from %d: %s", v, error.c_str());
    cr_assert_eq(store::schema_version(*c), store::latest_version());
    cr_assert_eq(schema(*c), want, "schema from version %d differs", v);
  }
}

Test(migrations, refuses_newer_database) {
  TempDir dir;
  auto c = open_db(dir.path + "/db");
  std::string pragma = "PRAGMA user_version = " + std::to_string(store::latest_version() + 1);
  cr_assert_eq(c->exec(pragma.c_str()), SQLITE_OK);
  std::string error;
  cr_assert_neq(store::migrate(*c, &error), SQLITE_OK);
  cr_assert(error.find("newer") != std::string::npos, "%s", error.c_str());
}

Test(migrations, connection_settings) {
  TempDir dir;
  auto c = open_db(dir.path + "/db");
  auto mode = c->prepare("PRAGMA journal_mode");
  cr_assert_eq(mode.step(), SQLITE_ROW);
  cr_assert_eq(mode.text(0), "wal");
  auto sync = c->prepare("PRAGMA synchronous");
  cr_assert_eq(sync.step(), SQLITE_ROW);
  cr_assert_eq(sync.int64(0), 2, "synchronous=FULL");
  auto temp = c->prepare("PRAGMA temp_store");
  cr_assert_eq(temp.step(), SQLITE_ROW);
  cr_assert_eq(temp.int64(0), 2, "temp_store=MEMORY: savepoint journals never spill to a file");
  auto fk = c->prepare("PRAGMA foreign_keys");
  cr_assert_eq(fk.step(), SQLITE_ROW);
  cr_assert_eq(fk.int64(0), 1);
}

// Version 6 rebuilds agent_status: rows written under version 4 stay, and the
// status rule still holds.
Test(migrations, presence_rows_survive_the_status_rule_rewrite) {
  TempDir dir;
  auto c = open_db(dir.path + "/db");
  std::string error;
  cr_assert_eq(store::migrate(*c, &error, 4), SQLITE_OK, "%s", error.c_str());
  cr_assert_eq(c->exec("INSERT INTO workspaces VALUES ('w1', 'W', 'w', 't', 't');"
                       "INSERT INTO agents (id, workspace_id, name, slug, created_at, updated_at)"
                       " VALUES ('a1', 'w1', 'A', 'a', 't', 't');"
                       "INSERT INTO agent_status VALUES ('a1', 'w1', NULL, 'blocked', 's', 7, '{\"k\":1}');"),
               SQLITE_OK);
  cr_assert_eq(store::migrate(*c, &error), SQLITE_OK, "%s", error.c_str());
  auto s = c->prepare("SELECT status, last_seen, details FROM agent_status WHERE agent_id = 'a1'");
  cr_assert_eq(s.step(), SQLITE_ROW);
  cr_assert_eq(s.text(0), "blocked");
  cr_assert_eq(s.int64(1), 7);
  cr_assert_eq(s.text(2), "{\"k\":1}");
  cr_assert_neq(c->exec("UPDATE agent_status SET status = 'sleeping'"), SQLITE_OK, "the rule holds");
  cr_assert_neq(c->exec("INSERT INTO agent_status VALUES ('nobody', 'w1', NULL, 'busy', 's', 1, NULL)"), SQLITE_OK,
                "so does the agent's foreign key");
  cr_assert_eq(c->exec("DELETE FROM agents WHERE id = 'a1'"), SQLITE_OK);
  auto n = c->prepare("SELECT count(*) FROM agent_status");
  cr_assert_eq(n.step(), SQLITE_ROW);
  cr_assert_eq(n.int64(0), 0, "and its cascade");
}

// Version 11 adds the self-learning columns: agents made before it are off
// and never flipped, and the flag stays a boolean.
Test(migrations, agents_before_self_learning_are_off) {
  TempDir dir;
  auto c = open_db(dir.path + "/db");
  std::string error;
  cr_assert_eq(store::migrate(*c, &error, 10), SQLITE_OK, "%s", error.c_str());
  cr_assert_eq(c->exec("INSERT INTO workspaces VALUES ('w1', 'W', 'w', 't', 't');"
                       "INSERT INTO agents (id, workspace_id, name, slug, created_at, updated_at)"
                       " VALUES ('a1', 'w1', 'A', 'a', 't', 't');"),
               SQLITE_OK);
  cr_assert_eq(store::migrate(*c, &error), SQLITE_OK, "%s", error.c_str());
  auto s = c->prepare(
      "SELECT self_learning_enabled, self_learning_set_by_user_id IS NULL, self_learning_set_at IS NULL,"
      " self_learning_reason IS NULL FROM agents WHERE id = 'a1'");
  cr_assert_eq(s.step(), SQLITE_ROW);
  cr_assert_eq(s.int64(0), 0);
  cr_assert(s.int64(1) && s.int64(2) && s.int64(3));
  cr_assert_neq(c->exec("UPDATE agents SET self_learning_enabled = 2"), SQLITE_OK, "a boolean");
  cr_assert_neq(c->exec("INSERT INTO peer_card_audit VALUES ('p1', 'a1', 'u1', 'peek', 'x', 't')"), SQLITE_OK,
                "read, write or delete");
}
