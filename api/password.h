// Argon2id password hashing (crypto_pwhash_str) in a helper process.
//
// A hash fills 64 MiB; done in a thread of the daemon, the mapping and
// page-fault work of that memory contends with the loop thread for the
// process's address space and held /api/health p99 at 10-20 ms while 20
// sign-ins were in flight. In a process of its own (the same binary, run as
// `crewshipd hash-worker`, at the lowest CPU priority) it does not touch the
// daemon's memory map at all. The loop talks to it over a pipe; nothing
// waits on it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>

#include <uv.h>

namespace crewship::api {

class PasswordHasher {
 public:
  PasswordHasher() = default;
  PasswordHasher(const PasswordHasher&) = delete;
  PasswordHasher& operator=(const PasswordHasher&) = delete;

  // done(hash) on the loop thread; an empty hash means hashing failed.
  void hash(uv_loop_t* loop, std::string password, std::function<void(std::string)> done);
  // done(1) when the password matches, 0 when not, -1 when checking failed.
  // An empty stored hash is checked against a dummy one so unknown users take
  // as long as known ones.
  void verify(uv_loop_t* loop, std::string stored_hash, std::string password,
              std::function<void(int)> done);
  // Ends the worker (it exits on EOF) and closes the handles; pending calls
  // fail.
  void close();

 private:
  struct Pending {
    std::function<void(std::string)> hashed;
    std::function<void(int)> verified;
  };
  bool ensure_worker(uv_loop_t* loop);
  void send(uint8_t op, std::string_view password, std::string_view hash, Pending p);
  void on_frames();
  void fail_all();
  void release_handles();

  uv_loop_t* loop_ = nullptr;
  uv_process_t process_{};
  uv_pipe_t to_worker_{}, from_worker_{};
  bool running_ = false;
  int open_handles_ = 0;
  uint32_t next_id_ = 1;
  std::unordered_map<uint32_t, Pending> pending_;
  std::string in_;  // bytes read from the worker, not yet a whole frame
};

// The worker's main: reads requests on stdin, answers on stdout, exits on EOF.
int run_hash_worker();

}  // namespace crewship::api
