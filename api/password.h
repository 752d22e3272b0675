// Argon2id password hashing (crypto_pwhash_str) in a helper process.
//
// A hash fills 64 MiB; done in a thread of the daemon, the mapping and
// page-fault work of that memory contends with the loop thread for the
// process's address space and held /api/health p99 at 10-20 ms while 20
// sign-ins were in flight. In a process of its own (the same binary, run as
// `crewshipd hash-worker`, at the lowest CPU priority) it does not touch the
// daemon's memory map at all. The loop talks to the workers over pipes;
// nothing waits on them. A bounded queue keeps a burst of anonymous sign-ins
// from delaying a real user's by more than the queue's length.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <memory>
#include <unordered_map>
#include <vector>

#include <uv.h>

namespace crewship::api {

class PasswordHasher {
 public:
  static constexpr int kWaitedTooLong = -2;
  PasswordHasher() = default;
  PasswordHasher(const PasswordHasher&) = delete;
  PasswordHasher& operator=(const PasswordHasher&) = delete;

  // workers: helper processes (0: one per core); max_queued: hashes waiting
  // or under way, beyond which new ones are refused at once; max_wait_ms:
  // longest a hash or check may wait for a worker before it fails instead
  // (0: no bound). Before any call.
  void configure(size_t workers, size_t max_queued, int64_t max_wait_ms = 0);

  // done(hash) on the loop thread; an empty hash means hashing failed (or
  // was refused: see busy()).
  void hash(uv_loop_t* loop, std::string password, std::function<void(std::string)> done);
  // done(1) when the password matches, 0 when not, kWaitedTooLong when it
  // waited for a worker beyond max_wait_ms, -1 when checking failed or was
  // refused. An empty stored hash is checked against a dummy one so
  // unknown users take as long as known ones.
  void verify(uv_loop_t* loop, std::string stored_hash, std::string password,
              std::function<void(int)> done);
  // True when a new hash or verify would be refused: the queue is full. The
  // caller answers 503 with Retry-After instead of queueing.
  bool busy() const { return pending_.size() >= max_queued_; }
  size_t queued() const { return pending_.size(); }
  size_t workers() const { return workers_.size(); }
  // Ends the workers (they exit on EOF) and closes the handles; pending
  // calls fail.
  void close();

 private:
  struct Pending {
    std::function<void(std::string)> hashed;
    std::function<void(int)> verified;
    size_t worker = 0;
  };
  // One helper process and its pipes.
  struct Worker {
    PasswordHasher* owner = nullptr;
    size_t index = 0;
    uv_process_t process{};
    uv_pipe_t to{}, from{};
    bool running = false;
    int open_handles = 0;
    size_t in_flight = 0;
    std::string in;  // bytes read from the worker, not yet a whole frame
  };
  Worker* pick(uv_loop_t* loop);
  bool ensure_worker(uv_loop_t* loop, Worker& w);
  void send(Worker& w, uint8_t op, std::string_view password, std::string_view hash, Pending p);
  void on_frames(Worker& w);
  void fail_worker(Worker& w);
  static void finish(Pending& p, int result, std::string hash);
  static void release_handles(Worker& w);

  size_t max_queued_ = 32;
  int64_t max_wait_ms_ = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
  uint32_t next_id_ = 1;
  std::unordered_map<uint32_t, Pending> pending_;
};

// The worker's main: reads requests on stdin, answers on stdout, exits on EOF.
int run_hash_worker();

}  // namespace crewship::api
