#include "store/writer.h"

#include <cassert>

namespace crewship::store {

Writer::~Writer() { assert(!running_ && "stop() the writer and let the loop close it"); }

int Writer::start(uv_loop_t* loop, std::unique_ptr<Connection> conn, size_t max_group) {
  loop_ = loop;
  conn_ = std::move(conn);
  max_group_ = max_group == 0 ? 1 : max_group;
  int r = uv_async_init(loop, &async_, on_async);
  if (r != 0) return r;
  async_.data = this;
  running_ = true;
  thread_ = std::thread([this] { run(); });
  return 0;
}

void Writer::submit(Work work, Done done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(Job{std::move(work), std::move(done)});
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
    commit(group);
    {
      std::lock_guard lock(mu_);
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
  conn_.reset();  // closing may checkpoint the WAL: keep that off the loop too
  {
    std::lock_guard lock(mu_);
    exited_ = true;
  }
  uv_async_send(&async_);
}

void Writer::commit(std::vector<Job>& group) {
  auto step = [this](const char* sql) {
    StmtLease s = conn_->prepare(sql);
    return s ? (s.step() == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(conn_->db()))
             : sqlite3_extended_errcode(conn_->db());
  };
  int rc = step("BEGIN IMMEDIATE");
  if (rc != SQLITE_OK) {
    for (Job& j : group) j.rc = rc;
    return;
  }
  for (Job& j : group) {
    if ((rc = step("SAVEPOINT w")) != SQLITE_OK) {
      j.rc = rc;
      continue;
    }
    j.rc = j.work(*conn_);
    if (j.rc != SQLITE_OK) step("ROLLBACK TO w");
    step("RELEASE w");
  }
  rc = step("COMMIT");
  if (rc != SQLITE_OK) {
    step("ROLLBACK");
    for (Job& j : group)
      if (j.rc == SQLITE_OK) j.rc = rc;
  }
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
  uv_close(reinterpret_cast<uv_handle_t*>(&w->async_), [](uv_handle_t* h) {
    auto* self = static_cast<Writer*>(h->data);
    if (self->stopped_) {
      auto cb = std::move(self->stopped_);
      cb();
    }
  });
}

}  // namespace crewship::store
