#include "api/password.h"

#include <memory>

#include <sodium.h>
#include <sys/resource.h>
#include <unistd.h>

namespace crewship::api {
namespace {

struct Job {
  uv_work_t req;
  std::string password;
  std::string hash;  // in: stored hash (verify); out: new hash (hash)
  bool verify = false;
  bool ok = false;
  std::function<void(std::string)> hashed;
  std::function<void(bool)> verified;

  ~Job() { sodium_memzero(password.data(), password.size()); }
};

// A valid Argon2id hash of a random password, made once, for unknown users.
const std::string& dummy_hash() {
  static const std::string h = [] {
    char out[crypto_pwhash_STRBYTES];
    unsigned char pw[16];
    randombytes_buf(pw, sizeof pw);
    if (crypto_pwhash_str(out, reinterpret_cast<const char*>(pw), sizeof pw,
                          crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
      return std::string();
    return std::string(out);
  }();
  return h;
}

// A hash keeps a core busy for tens of milliseconds; the pool thread that
// runs it steps back (nice 19) so the loop thread always wins the CPU. Once
// per thread: an unprivileged thread cannot raise its priority again, and the
// pool's other work (file system calls) waits on I/O, not the CPU.
void yield_cpu_to_loop() {
  thread_local bool lowered = false;
  if (!lowered) {
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);
    lowered = true;
  }
}

void work(uv_work_t* req) {
  yield_cpu_to_loop();
  auto* j = static_cast<Job*>(req->data);
  if (j->verify) {
    const std::string& h = j->hash.empty() ? dummy_hash() : j->hash;
    bool match = !h.empty() &&
                 crypto_pwhash_str_verify(h.c_str(), j->password.data(), j->password.size()) == 0;
    j->ok = match && !j->hash.empty();
    return;
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, j->password.data(), j->password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0)
    j->hash = out;
}

void after(uv_work_t* req, int) {
  std::unique_ptr<Job> j(static_cast<Job*>(req->data));
  if (j->verify) {
    j->verified(j->ok);
  } else {
    j->hashed(std::move(j->hash));
  }
}

void queue(uv_loop_t* loop, std::unique_ptr<Job> j) {
  j->req.data = j.get();
  if (uv_queue_work(loop, &j->req, work, after) == 0) {
    j.release();
  } else if (j->verify) {
    j->verified(false);
  } else {
    j->hashed(std::string());
  }
}

}  // namespace

void hash_password(uv_loop_t* loop, std::string password, std::function<void(std::string)> done) {
  auto j = std::make_unique<Job>();
  j->password = std::move(password);
  j->hashed = std::move(done);
  queue(loop, std::move(j));
}

void verify_password(uv_loop_t* loop, std::string stored_hash, std::string password,
                     std::function<void(bool)> done) {
  auto j = std::make_unique<Job>();
  j->verify = true;
  j->hash = std::move(stored_hash);
  j->password = std::move(password);
  j->verified = std::move(done);
  queue(loop, std::move(j));
}

}  // namespace crewship::api
