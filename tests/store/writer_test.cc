#include <sched.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <criterion/criterion.h>

#include "store/db.h"
#include "store/migrations.h"
#include "store/writer.h"
#include "tests/support/harness.h"

using namespace crewship;
using store::Connection;

namespace {

struct Fixture {
  std::string dir = test::make_temp_dir();
  std::string path = dir + "/db";
  uv_loop_t loop;
  store::Writer writer;
  std::thread::id loop_thread = std::this_thread::get_id();

  explicit Fixture(size_t max_group = 1024, bool checkpoints = false) {
    uv_loop_init(&loop);
    std::unique_ptr<Connection> c, ck;
    std::string error;
    cr_assert_eq(Connection::open(path, Connection::Mode::kWrite, &c, &error), SQLITE_OK);
    cr_assert_eq(c->exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)"), SQLITE_OK);
    if (checkpoints) cr_assert_eq(Connection::open(path, Connection::Mode::kWrite, &ck, &error), SQLITE_OK);
    cr_assert_eq(writer.start(&loop, std::move(c), max_group, std::move(ck)), 0);
  }
  ~Fixture() {
    uv_loop_close(&loop);
    test::remove_tree(dir);
  }
  void stop_and_run() {
    bool stopped = false;
    writer.stop([&] { stopped = true; });
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert(stopped);
  }
  int64_t count(const char* where = "1") {
    std::unique_ptr<Connection> r;
    std::string error;
    cr_assert_eq(Connection::open(path, Connection::Mode::kRead, &r, &error), SQLITE_OK);
    std::string sql = std::string("SELECT count(*) FROM t WHERE ") + where;
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(r->db(), sql.c_str(), -1, &s, nullptr);
    sqlite3_step(s);
    int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
  }
};

store::Writer::Work insert(int64_t k) {
  return [k](Connection& c) {
    auto s = c.prepare("INSERT INTO t(k, v) VALUES (?1, ?2)");
    s.bind_all(k, std::string_view("value"));
    int rc = s.step();
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
  };
}

}  // namespace

TestSuite(writer, .timeout = 30);

// Writes that arrive while a group is being committed go into the next group
// together: one transaction for all of them.
Test(writer, groups_writes_that_queue_up) {
  Fixture f;
  std::atomic<bool> started{false}, release{false};
  int ok = 0;
  bool on_loop = true;
  f.writer.submit(
      [&](Connection& c) {
        started = true;
        while (!release.load()) std::this_thread::yield();
        return insert(0)(c);
      },
      [&](int rc) { ok += rc == SQLITE_OK; });
  while (!started.load()) std::this_thread::yield();  // the first group holds just that write
  for (int i = 1; i <= 500; ++i) {
    f.writer.submit(insert(i), [&](int rc) {
      ok += rc == SQLITE_OK;
      on_loop = on_loop && std::this_thread::get_id() == f.loop_thread;
    });
  }
  release = true;
  f.stop_and_run();
  cr_assert_eq(ok, 501);
  cr_assert(on_loop, "completions run on the loop thread");
  auto st = f.writer.stats();
  cr_assert_eq(st.writes, 501u);
  cr_assert_eq(st.groups, 2u, "500 queued writes commit as one group, got %llu groups",
               static_cast<unsigned long long>(st.groups));
  cr_assert_eq(f.count(), 501);
}

// The writer's thread is SCHED_BATCH: its wake-ups do not preempt the loop,
// which on a shared core goes on queueing what the next group will take.
Test(writer, its_wake_ups_do_not_preempt_the_loop) {
  Fixture f;
  int policy = -1;
  f.writer.submit([&](Connection& c) {
    policy = sched_getscheduler(0);
    return insert(0)(c);
  }, nullptr);
  f.stop_and_run();
  cr_assert_eq(policy, SCHED_BATCH, "policy %d", policy);
  cr_assert_eq(sched_getscheduler(0), SCHED_OTHER, "the loop's thread keeps its own");
}

Test(writer, max_group_bounds_a_group) {
  Fixture f(100);
  std::atomic<bool> started{false}, release{false};
  f.writer.submit([&](Connection& c) {
    started = true;
    while (!release.load()) std::this_thread::yield();
    return insert(0)(c);
  }, nullptr);
  while (!started.load()) std::this_thread::yield();
  for (int i = 1; i <= 250; ++i) f.writer.submit(insert(i), nullptr);
  release = true;
  f.stop_and_run();
  cr_assert_eq(f.writer.stats().groups, 4u, "1 + 100 + 100 + 50");
  cr_assert_eq(f.count(), 251);
}

// A failing write is undone alone; the rest of its group commits.
Test(writer, failure_is_isolated_to_its_write) {
  Fixture f;
  std::vector<int> rcs(10, -1);
  for (int i = 0; i < 10; ++i) {
    int64_t key = i == 5 ? 3 : i;  // write 5 repeats key 3
    f.writer.submit(
        [key, i](Connection& c) {
          int rc = insert(key)(c);
          if (rc == SQLITE_OK && i == 7) {
            // A write that changes rows and then fails leaves nothing behind.
            auto s = c.prepare("INSERT INTO t(k, v) VALUES (1000, 'partial')");
            s.step();
            return SQLITE_ABORT;
          }
          return rc;
        },
        [&rcs, i](int rc) { rcs[i] = rc; });
  }
  f.stop_and_run();
  for (int i = 0; i < 10; ++i) {
    if (i == 5) {
      cr_assert_eq(rcs[i] & 0xff, SQLITE_CONSTRAINT, "rc %d", rcs[i]);
    } else if (i == 7) {
      cr_assert_eq(rcs[i], SQLITE_ABORT);
    } else {
      cr_assert_eq(rcs[i], SQLITE_OK, "write %d: %d", i, rcs[i]);
    }
  }
  cr_assert_eq(f.count(), 8);
  cr_assert_eq(f.count("k IN (7, 1000)"), 0);
}

Test(writer, stop_commits_everything_queued) {
  Fixture f;
  int done = 0;
  for (int i = 0; i < 2000; ++i) f.writer.submit(insert(i), [&](int rc) { done += rc == SQLITE_OK; });
  f.stop_and_run();
  cr_assert_eq(done, 2000);
  cr_assert_eq(f.count(), 2000);
}

Test(writer, submit_after_stop_fails_cleanly) {
  Fixture f;
  int rc_after = 0;
  bool stopped = false;
  f.writer.stop([&] { stopped = true; });
  f.writer.submit(insert(1), [&](int rc) { rc_after = rc; });
  uv_run(&f.loop, UV_RUN_DEFAULT);
  cr_assert(stopped);
  cr_assert_eq(rc_after, SQLITE_MISUSE);
  cr_assert_eq(f.count(), 0);
}

namespace {

// Runs blocker alone in a first group, then writes (one group) after it;
// returns each write's rc.
std::vector<int> run_group(Fixture& f, const std::vector<store::Writer::Work>& writes) {
  std::atomic<bool> started{false}, release{false};
  f.writer.submit(
      [&](Connection&) {
        started = true;
        while (!release.load()) std::this_thread::yield();
        return SQLITE_OK;
      },
      nullptr);
  while (!started.load()) std::this_thread::yield();
  std::vector<int> rcs(writes.size(), -1);
  for (size_t i = 0; i < writes.size(); ++i)
    f.writer.submit(writes[i], [&rcs, i](int rc) { rcs[i] = rc; });
  release = true;
  f.stop_and_run();
  cr_assert_eq(f.writer.stats().groups, 2u);
  return rcs;
}

// A write that inserts key k, then runs sql and returns rc.
store::Writer::Work insert_then(int64_t k, const char* sql, int rc) {
  return [k, sql, rc](Connection& c) {
    int r = insert(k)(c);
    if (r != SQLITE_OK) return r;
    c.exec(sql);
    return rc;
  };
}

}  // namespace

// A failed write whose savepoint cannot be rolled back (here it released the
// savepoint itself) must not leave its changes to the commit: the
// transaction is dropped, the writes in it fail, and later writes commit.
Test(writer, failed_rollback_to_drops_the_transaction) {
  Fixture f;
  auto rcs = run_group(f, {insert(1), insert_then(2, "RELEASE w", SQLITE_ABORT), insert(3)});
  cr_assert_neq(rcs[0], SQLITE_OK, "its transaction was dropped");
  cr_assert_neq(rcs[1], SQLITE_OK);
  cr_assert_eq(rcs[2], SQLITE_OK, "rc %d", rcs[2]);
  cr_assert_eq(f.count("k IN (1, 2)"), 0);
  cr_assert_eq(f.count("k = 3"), 1);
}

// RELEASE failing after a successful write: that write and the ones before
// it in the transaction fail and nothing of them commits.
Test(writer, failed_release_fails_the_write) {
  Fixture f;
  auto rcs = run_group(f, {insert(1), insert_then(2, "RELEASE w", SQLITE_OK), insert(3)});
  cr_assert_neq(rcs[0], SQLITE_OK);
  cr_assert_neq(rcs[1], SQLITE_OK, "a write whose savepoint was not released is not acknowledged");
  cr_assert_eq(rcs[2], SQLITE_OK, "rc %d", rcs[2]);
  cr_assert_eq(f.count("k IN (1, 2)"), 0);
  cr_assert_eq(f.count("k = 3"), 1);
}

// The transaction ends under the writer (as SQLite does itself on some I/O
// and memory errors): the earlier writes of the group were rolled back with
// it and must not be acknowledged; the rest commit in a new transaction.
Test(writer, transaction_lost_mid_group) {
  Fixture f;
  auto rcs = run_group(f, {insert(1), insert_then(2, "ROLLBACK", SQLITE_IOERR), insert(3), insert(4)});
  cr_assert_neq(rcs[0], SQLITE_OK, "write 1 was rolled back; acknowledging it would lose it");
  cr_assert_eq(rcs[1], SQLITE_IOERR);
  cr_assert_eq(rcs[2], SQLITE_OK, "rc %d", rcs[2]);
  cr_assert_eq(rcs[3], SQLITE_OK, "rc %d", rcs[3]);
  cr_assert_eq(f.count("k IN (1, 2)"), 0);
  cr_assert_eq(f.count("k IN (3, 4)"), 2);
}

// A write that commits on its own is no write the writer can vouch for.
Test(writer, write_that_commits_itself_fails) {
  Fixture f;
  auto rcs = run_group(f, {insert_then(1, "COMMIT", SQLITE_OK), insert(2)});
  cr_assert_neq(rcs[0], SQLITE_OK);
  cr_assert_eq(rcs[1], SQLITE_OK, "rc %d", rcs[1]);
  cr_assert_eq(f.count("k = 2"), 1);
}

// With a checkpoint connection (and SQLite's checkpoint in the commit turned
// off), the WAL is still copied back into the database while the writer goes
// on, and everything written is there after the stop.
Test(writer, checkpoints_run_beside_the_writer) {
  Fixture f(1024, true);
  const std::string big(3000, 'x');
  int done = 0, failed = 0;
  const int n = 6500;  // about 5000 pages of WAL (a checkpoint is due at 4000), one group each
  for (int k = 0; k < n; ++k) {
    f.writer.submit(
        [k, &big](Connection& c) {
          auto s = c.prepare("INSERT INTO t(k, v) VALUES (?1, ?2)");
          s.bind_all(int64_t{k}, std::string_view(big));
          int rc = s.step();
          return rc == SQLITE_DONE ? SQLITE_OK : rc;
        },
        [&](int rc) {
          ++done;
          if (rc != SQLITE_OK) ++failed;
        });
    while (done <= k) uv_run(&f.loop, UV_RUN_ONCE);  // one group per write
  }
  cr_assert_eq(failed, 0);
  struct stat st {};
  for (int i = 0; i < 100 && (stat(f.path.c_str(), &st) != 0 || st.st_size < 2 * 1024 * 1024); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  cr_assert_geq(st.st_size, 2 * 1024 * 1024, "the database file holds the checkpointed pages: %lld bytes",
                static_cast<long long>(st.st_size));
  f.stop_and_run();
  cr_assert_eq(f.count(), n);
}
