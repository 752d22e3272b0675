// A migrated database in a temp dir for the store module tests, with a few
// rows every module needs and a way to break a table.
#pragma once

#include <memory>
#include <string>

#include <criterion/criterion.h>

#include "daemon/result.h"
#include "store/db.h"
#include "store/migrations.h"
#include "tests/support/harness.h"

namespace crewship::test {

struct StoreDb {
  std::string dir = make_temp_dir();
  std::unique_ptr<store::Connection> c;

  StoreDb() {
    std::string error;
    cr_assert_eq(store::Connection::open(dir + "/db", store::Connection::Mode::kWrite, &c, &error),
                 SQLITE_OK, "%s", error.c_str());
    cr_assert_eq(store::migrate(*c, &error), SQLITE_OK, "%s", error.c_str());
  }
  ~StoreDb() {
    c.reset();
    remove_tree(dir);
  }
  store::Connection& db() { return *c; }

  void exec(const std::string& sql) {
    std::string error;
    cr_assert_eq(c->exec(sql.c_str(), &error), SQLITE_OK, "%s: %s", sql.c_str(), error.c_str());
  }
  // Makes every statement on table fail from now on, as a damaged store would.
  void drop(const std::string& table) {
    exec("PRAGMA foreign_keys=OFF; DROP TABLE " + table + "; PRAGMA foreign_keys=ON;");
  }
  // User u<n> (email u<n>@x.test), workspace w1 owned by u1, crew c1 in w1.
  void seed() {
    exec("INSERT INTO users(id, email, name, password_hash, created_at, updated_at) VALUES"
         " ('u1', 'u1@x.test', 'One', 'h1', 't', 't'),"
         " ('u2', 'u2@x.test', NULL, 'h2', 't', 't');"
         "INSERT INTO workspaces(id, name, slug, created_at, updated_at) VALUES ('w1', 'W', 'w1', 't', 't');"
         "INSERT INTO workspace_members(id, workspace_id, user_id, role, created_at)"
         " VALUES ('m1', 'w1', 'u1', 'OWNER', 't');"
         "INSERT INTO crews(id, workspace_id, name, slug, created_at, updated_at)"
         " VALUES ('c1', 'w1', 'Crew', 'crew', 't', 't');");
  }
  // seed(), and agent a1 in crew c1.
  void seed_agent() {
    seed();
    exec("INSERT INTO agents(id, workspace_id, crew_id, name, slug, created_at, updated_at)"
         " VALUES ('a1', 'w1', 'c1', 'A', 'a', 't', 't')");
  }
};

// A store failure is a 500 whose cause names SQLite's error, never a 4xx.
inline void expect_store_failure(const Problem& p) {
  cr_assert_eq(p.status, 500, "status %d (%s)", p.status, p.detail.c_str());
  cr_assert_str_eq(p.detail.c_str(), "storage error");
  cr_assert(p.cause.find("store error") == 0, "cause: %s", p.cause.c_str());
}

template <class T>
void expect_status(const Result<T>& r, int status) {
  cr_assert(!r.ok(), "expected %d, got a value", status);
  cr_assert_eq(r.problem().status, status, "status %d (%s)", r.problem().status,
               r.problem().detail.c_str());
}

}  // namespace crewship::test
