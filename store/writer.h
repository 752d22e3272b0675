// The single writer: one thread owns the write connection and commits queued
// writes in groups, one transaction and one sync for every write that arrived
// while the previous group was syncing. Completions are handed back to the
// loop thread through a uv_async_t, after the group is durable. Given a
// second connection, checkpoints of the WAL run on a thread of their own, so
// no group waits for one. The writer's thread is SCHED_BATCH, so that on a
// core it shares with the loop a submission does not preempt the loop
// mid-turn; a uv_check lets it through when the loop never waits (run()
// and on_check() say more).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <uv.h>

#include "daemon/metric_types.h"
#include "daemon/result.h"
#include "store/db.h"
#include "store/errors.h"

namespace crewship::store {

class Writer {
 public:
  // Runs on the writer thread inside the group's transaction, in a savepoint
  // of its own: returning anything but SQLITE_OK undoes just this write. A
  // write must not end the transaction or touch savepoint w; if the
  // transaction ends anyway or the savepoint cannot be undone or released,
  // every write of that transaction fails and none of it commits.
  using Work = std::function<int(Connection&)>;
  // Runs on the loop thread: SQLITE_OK once the write is committed, else the
  // error of the write or of the group's commit.
  using Done = std::function<void(int rc)>;

  Writer() = default;
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Takes the write connection (already migrated) and starts the thread;
  // with checkpoints, a connection to the same database, also the
  // checkpointing thread (without, SQLite checkpoints inside commits).
  int start(uv_loop_t* loop, std::unique_ptr<Connection> conn, size_t max_group,
            std::unique_ptr<Connection> checkpoints = {});
  void submit(Work work, Done done);
  // Commits everything queued, ends the thread and closes the async handle;
  // then runs done on the loop thread. Submissions after this fail.
  void stop(std::function<void()> done);

  struct Stats {
    uint64_t groups = 0;
    uint64_t writes = 0;
    uint64_t failed = 0;
  };
  Stats stats() const;

  // For the metrics endpoint; counted on the writer thread and in submit(),
  // read from any thread.
  struct Metrics {
    std::atomic<int64_t> queue_depth{0};  // submitted, not yet taken into a group
    metrics::AtomicSizeHistogram batch_size{metrics::kSizes};
    metrics::AtomicLatencyHistogram commit_ns{metrics::kLatencyNs};  // one group's transaction and sync
  };
  const Metrics& metrics() const { return metrics_; }

 private:
  struct Job {
    Work work;
    Done done;
    int rc = SQLITE_OK;
    uint64_t queued_ns = 0;  // uv_hrtime() at submit
  };
  void run();
  void commit(std::vector<Job>& group);
  void checkpoint_loop();
  void stop_checkpoints();
  static void on_async(uv_async_t* a);
  static void on_check(uv_check_t* c);
  static int on_wal(void* self, sqlite3* db, const char* name, int pages);

  uv_loop_t* loop_ = nullptr;
  uv_async_t async_;
  uv_check_t check_;
  int open_handles_ = 0;  // loop thread only; while closing
  uint64_t idle_ns_ = 0;    // loop thread only: the loop's idle time at the last check
  uint64_t checked_at_ = 0;  // loop thread only: uv_hrtime() of the last check
  uint64_t waited_at_ = 0;   // loop thread only: the check before the loop last waited
  std::unique_ptr<Connection> conn_;
  std::thread thread_;
  size_t max_group_ = 1024;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;        // guarded by mu_
  uint64_t group_began_ns_ = 0;  // guarded by mu_: uv_hrtime() the group under way began, 0 between groups
  std::vector<Job> completed_;   // guarded by mu_
  bool stopping_ = false;        // guarded by mu_
  bool exited_ = false;          // guarded by mu_
  Stats stats_;                  // guarded by mu_
  Metrics metrics_;

  std::unique_ptr<Connection> checkpoints_;  // the checkpointing thread's
  std::thread checkpoint_thread_;
  std::mutex ck_mu_;
  std::condition_variable ck_cv_;
  bool checkpoint_due_ = false;  // guarded by ck_mu_
  bool ck_stop_ = false;         // guarded by ck_mu_

  bool running_ = false;         // loop thread only
  std::function<void()> stopped_;
};

// Queues work returning a Result<T> (or Status) and hands done that result
// on the loop thread once the write committed. A problem the work returns
// undoes just its write and reaches done unchanged; a failure of the
// group's commit, or a submission after stop, reaches it as a store failure.
template <class Work, class Done>
void submit(Writer& writer, Work work, Done done) {
  using R = std::invoke_result_t<Work&, Connection&>;
  auto slot = std::make_shared<std::optional<R>>();
  writer.submit(
      [work = std::move(work), slot](Connection& c) mutable {
        slot->emplace(work(c));
        return (*slot)->ok() ? SQLITE_OK : SQLITE_ABORT;
      },
      [slot, done = std::move(done)](int rc) mutable {
        if (rc == SQLITE_OK) return done(std::move(**slot));
        if (slot->has_value() && !(*slot)->ok()) return done(R(std::move(**slot).take_problem()));
        done(R(store_failure(rc)));
      });
}

}  // namespace crewship::store
