#include "store/writer.h"

#include <pthread.h>
#include <sched.h>

#include <cassert>

namespace crewship::store {
namespace {

// WAL pages after which a checkpoint is due, and beyond which the writer
// checkpoints itself, as SQLite would, because the checkpointing thread
// cannot keep up. Four times SQLite's default: each checkpoint copies the
// pages written since the last (a hot set, under presence writes) and syncs
// the database, so a quarter as many cost about a quarter of the CPU
// (+10 % upserts/s on one shared core, four runs each way) for a WAL of
// 16 MiB at most before one is due.
constexpr int kCheckpointPages = 4000;
constexpr int kCheckpointInline = 8 * kCheckpointPages;

// A group under way, or a write queued, this long while the loop has not
// waited once is let through (see on_check).
constexpr uint64_t kYieldAfterNs = 1'000'000;

}  // namespace

Writer::~Writer() { assert(!running_ && "stop() the writer and let the loop close it"); }

int Writer::start(uv_loop_t* loop, std::unique_ptr<Connection> conn, size_t max_group,
                  std::unique_ptr<Connection> checkpoints) {
  loop_ = loop;
  conn_ = std::move(conn);
  max_group_ = max_group == 0 ? 1 : max_group;
  int r = uv_async_init(loop, &async_, on_async);
  if (r != 0) return r;
  async_.data = this;
  uv_check_init(loop, &check_);
  check_.data = this;
  uv_check_start(&check_, on_check);
  running_ = true;
  if (checkpoints) {
    // The hook replaces SQLite's checkpoint inside the commit that filled
    // the WAL: that group's writes, and all queued behind it, waited for
    // the copy back into the database and its sync.
    checkpoints_ = std::move(checkpoints);
    sqlite3_wal_hook(conn_->db(), on_wal, this);
    checkpoint_thread_ = std::thread([this] { checkpoint_loop(); });
  }
  thread_ = std::thread([this] { run(); });
  return 0;
}

void Writer::submit(Work work, Done done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(Job{std::move(work), std::move(done), SQLITE_OK, uv_hrtime()});
      metrics_.queue_depth.fetch_add(1, std::memory_order_relaxed);
      cv_.notify_one();
      return;
    }
    completed_.push_back(Job{nullptr, std::move(done), SQLITE_MISUSE});
  }
  if (running_) uv_async_send(&async_);
}

void Writer::stop(std::function<void()> done) {
  stopped_ = std::move(done);
  std::lock_guard lock(mu_);
  stopping_ = true;
  cv_.notify_one();
}

Writer::Stats Writer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Writer::run() {
  // No wake-up of this thread preempts the loop: on a core the two share,
  // the loop goes on reading the requests at hand, and the group that
  // commits next holds them all (28 writes a group rather than 13 under 32
  // closed-loop connections, one sync for each). The writer runs once the
  // loop waits, its time slice ends, or on_check lets it through.
  struct sched_param batch {};
  pthread_setschedparam(pthread_self(), SCHED_BATCH, &batch);
  std::vector<Job> group;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) break;  // stopping, and everything is committed
      while (!queue_.empty() && group.size() < max_group_) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    metrics_.queue_depth.fetch_sub(static_cast<int64_t>(group.size()), std::memory_order_relaxed);
    metrics_.batch_size.observe(group.size());
    uint64_t began = uv_hrtime();
    {
      std::lock_guard lock(mu_);
      group_began_ns_ = began;
    }
    commit(group);
    metrics_.commit_ns.observe(uv_hrtime() - began);
    {
      std::lock_guard lock(mu_);
      group_began_ns_ = 0;
      ++stats_.groups;
      for (Job& j : group) {
        ++stats_.writes;
        if (j.rc != SQLITE_OK) ++stats_.failed;
        j.work = nullptr;  // captured state is released on this thread, not the loop's
        completed_.push_back(std::move(j));
      }
    }
    group.clear();
    uv_async_send(&async_);
  }
  stop_checkpoints();
  conn_.reset();  // closing may checkpoint the WAL: keep that off the loop too
  {
    std::lock_guard lock(mu_);
    exited_ = true;
  }
  uv_async_send(&async_);
}

void Writer::commit(std::vector<Job>& group) {
  sqlite3* db = conn_->db();
  auto step = [this, db](const char* sql) {
    StmtLease s = conn_->prepare(sql);
    int rc = s.step();
    return rc == SQLITE_DONE ? SQLITE_OK : s ? sqlite3_extended_errcode(db) : rc;
  };
  // Jobs [first, i) ran in the open transaction; their changes stand or fall
  // with it.
  auto fail_since = [&group](size_t first, size_t end, int rc) {
    for (size_t k = first; k < end; ++k)
      if (group[k].rc == SQLITE_OK) group[k].rc = rc;
  };
  bool open = false;
  size_t first = 0;
  for (size_t i = 0; i < group.size(); ++i) {
    Job& j = group[i];
    if (!open) {
      if (int rc = step("BEGIN IMMEDIATE"); rc != SQLITE_OK) {
        fail_since(i, group.size(), rc);
        return;
      }
      open = true;
      first = i;
    }
    int rc = step("SAVEPOINT w");
    if (rc == SQLITE_OK) {
      j.rc = j.work(*conn_);
      if (j.rc != SQLITE_OK) rc = step("ROLLBACK TO w");
      if (rc == SQLITE_OK) rc = step("RELEASE w");
    }
    // Still inside our transaction with the savepoint gone: the job is done
    // or undone. Otherwise (SQLite rolled the transaction back on an I/O or
    // memory error, the work ended it, or the savepoint could not be undone
    // or released) the transaction's content is unknown: nothing of it may
    // commit, and every job in it fails. The next job starts a new one.
    if (rc == SQLITE_OK && sqlite3_get_autocommit(db) == 0) continue;
    if (rc == SQLITE_OK) rc = SQLITE_ABORT;
    if (j.rc == SQLITE_OK) j.rc = rc;
    if (sqlite3_get_autocommit(db) == 0) step("ROLLBACK");
    fail_since(first, i, rc);
    open = false;
  }
  if (!open) return;
  if (int rc = step("COMMIT"); rc != SQLITE_OK) {
    if (sqlite3_get_autocommit(db) == 0) step("ROLLBACK");
    fail_since(first, group.size(), rc);
  }
}

int Writer::on_wal(void* self, sqlite3* db, const char* name, int pages) {
  auto* w = static_cast<Writer*>(self);
  if (pages >= kCheckpointInline) {
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (pages >= kCheckpointPages) {
    std::lock_guard lock(w->ck_mu_);
    w->checkpoint_due_ = true;
    w->ck_cv_.notify_one();
  }
  return SQLITE_OK;
}

void Writer::checkpoint_loop() {
  std::unique_lock lock(ck_mu_);
  for (;;) {
    ck_cv_.wait(lock, [this] { return checkpoint_due_ || ck_stop_; });
    if (ck_stop_) break;
    checkpoint_due_ = false;
    lock.unlock();
    // PASSIVE never waits for the writer or readers: it copies what no
    // reader still needs, and the writer restarts the WAL once all is copied.
    sqlite3_wal_checkpoint_v2(checkpoints_->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
  }
}

void Writer::stop_checkpoints() {
  if (!checkpoint_thread_.joinable()) return;
  {
    std::lock_guard lock(ck_mu_);
    ck_stop_ = true;
    ck_cv_.notify_one();
  }
  checkpoint_thread_.join();
  sqlite3_wal_hook(conn_->db(), nullptr, nullptr);
  checkpoints_.reset();
}

// Once a turn. A loop busy with readers never waits, and the writer, whose
// wake-ups no longer preempt it, would run only when the loop's time slice
// ends: when the group under way, or else the oldest queued write, began
// kYieldAfterNs ago and the loop has not waited since (its idle time,
// UV_METRICS_IDLE_TIME, has not grown), the loop gives up its core for a
// moment. Where the writer has a core of its own the yield returns at once.
void Writer::on_check(uv_check_t* c) {
  auto* w = static_cast<Writer*>(c->data);
  // The wait, if the loop waited, came after the last check: what was
  // queued before that check had the core then, what came later did not.
  if (uint64_t idle = uv_metrics_idle_time(w->loop_); idle != w->idle_ns_) {
    w->idle_ns_ = idle;
    w->waited_at_ = w->checked_at_;
  }
  uint64_t since;
  {
    std::lock_guard lock(w->mu_);
    since = w->group_began_ns_;
    if (since == 0 && !w->queue_.empty()) since = w->queue_.front().queued_ns;
  }
  uint64_t now = uv_hrtime();
  w->checked_at_ = now;
  if (since != 0 && since >= w->waited_at_ && since + kYieldAfterNs <= now) sched_yield();
}

void Writer::on_async(uv_async_t* a) {
  auto* w = static_cast<Writer*>(a->data);
  std::vector<Job> done;
  bool exited;
  {
    std::lock_guard lock(w->mu_);
    done.swap(w->completed_);
    exited = w->exited_;
  }
  for (Job& j : done)
    if (j.done) j.done(j.rc);
  if (!exited || !w->running_) return;
  // The thread has left run(): joining returns at once.
  w->thread_.join();
  w->running_ = false;
  // The last of the two handles to close reports the stop.
  auto closed = [](uv_handle_t* h) {
    auto* self = static_cast<Writer*>(h->data);
    if (--self->open_handles_ > 0 || !self->stopped_) return;
    auto cb = std::move(self->stopped_);
    cb();
  };
  w->open_handles_ = 2;
  uv_close(reinterpret_cast<uv_handle_t*>(&w->check_), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&w->async_), closed);
}

}  // namespace crewship::store
