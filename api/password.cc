#include "api/password.h"

#include <cstring>
#include <memory>
#include <vector>

#include <sched.h>
#include <sodium.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"

namespace crewship::api {
namespace {

// Frames, all integers little-endian:
//   request:  u32 length | u32 id | u8 op | u64 deadline | u16 password length | password
//             | u16 hash length | hash
//   response: u32 length | u32 id | u8 result | u16 hash length | hash
// length counts the bytes after itself. op: 1 hash, 2 verify. deadline:
// CLOCK_MONOTONIC milliseconds (the same clock in every process) after which
// the worker answers 254 instead of starting the work; 0 for none. result:
// 1 ok / match, 0 no match, 254 expired, 255 failure.
constexpr uint8_t kHash = 1, kVerify = 2;
constexpr uint8_t kExpired = 254, kFailed = 255;
// A password of 1024 characters is at most 4096 bytes of UTF-8; the hash
// (crypto_pwhash_STRBYTES) and the fields' lengths fit in the rest.
constexpr size_t kMaxPasswordBytes = 4096;
constexpr size_t kMaxFrame = kMaxPasswordBytes + crypto_pwhash_STRBYTES + 64;

void put_u16(std::string* out, size_t v) {
  out->push_back(static_cast<char>(v & 0xff));
  out->push_back(static_cast<char>((v >> 8) & 0xff));
}
void put_u32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
void put_u64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint64_t monotonic_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1'000'000;
}
uint16_t get_u16(const char* p) {
  return static_cast<uint16_t>(static_cast<unsigned char>(p[0]) | (static_cast<unsigned char>(p[1]) << 8));
}

struct WriteReq {
  uv_write_t req;
  std::string bytes;
};

}  // namespace

void PasswordHasher::configure(size_t workers, size_t max_queued, int64_t max_wait_ms) {
  max_wait_ms_ = max_wait_ms;
  if (workers == 0) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    workers = cores > 0 ? static_cast<size_t>(cores) : 1;
  }
  workers_.clear();
  for (size_t i = 0; i < workers; ++i) {
    auto w = std::make_unique<Worker>();
    w->owner = this;
    w->index = i;
    workers_.push_back(std::move(w));
  }
  max_queued_ = max_queued == 0 ? 1 : max_queued;
}

bool PasswordHasher::ensure_worker(uv_loop_t* loop, Worker& w) {
  if (w.running) return true;
  if (w.open_handles > 0) return false;  // the last process's handles are still closing
  char exe[4096];
  size_t len = sizeof exe;
  if (uv_exepath(exe, &len) != 0) return false;
  uv_pipe_init(loop, &w.to, 0);
  uv_pipe_init(loop, &w.from, 0);
  w.to.data = w.from.data = &w;
  uv_stdio_container_t stdio[3];
  stdio[0].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_READABLE_PIPE);
  stdio[0].data.stream = reinterpret_cast<uv_stream_t*>(&w.to);
  stdio[1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[1].data.stream = reinterpret_cast<uv_stream_t*>(&w.from);
  stdio[2].flags = UV_INHERIT_FD;
  stdio[2].data.fd = 2;
  char arg0[] = "crewshipd", arg1[] = "hash-worker";
  char* args[] = {arg0, arg1, nullptr};
  uv_process_options_t opts = {};
  opts.file = exe;
  opts.args = args;
  opts.stdio = stdio;
  opts.stdio_count = 3;
  opts.exit_cb = [](uv_process_t* p, int64_t status, int sig) {
    auto* wk = static_cast<Worker*>(p->data);
    if (wk->running)
      LOG_WARN("password worker exited (worker %zu, status %lld, signal %d)", wk->index,
               static_cast<long long>(status), sig);
    wk->running = false;
    wk->owner->fail_worker(*wk);
    release_handles(*wk);
  };
  w.open_handles = 3;  // uv_spawn initialises the process handle even when it fails
  int r = uv_spawn(loop, &w.process, &opts);
  w.process.data = &w;
  if (r != 0) {
    LOG_ERROR("cannot start a password worker: %s", uv_strerror(r));
    release_handles(w);
    return false;
  }
  w.running = true;
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&w.from),
      [](uv_handle_t*, size_t suggested, uv_buf_t* buf) {
        buf->base = new char[suggested];
        buf->len = suggested;
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        auto* wk = static_cast<Worker*>(s->data);
        if (n > 0) wk->in.append(buf->base, static_cast<size_t>(n));
        delete[] buf->base;
        if (n > 0) wk->owner->on_frames(*wk);
        if (n < 0) uv_read_stop(s);  // the exit callback cleans up
      });
  return true;
}

void PasswordHasher::release_handles(Worker& w) {
  auto closed = [](uv_handle_t* hd) { static_cast<Worker*>(hd->data)->open_handles--; };
  for (uv_handle_t* hd : {reinterpret_cast<uv_handle_t*>(&w.to), reinterpret_cast<uv_handle_t*>(&w.from),
                          reinterpret_cast<uv_handle_t*>(&w.process)}) {
    if (hd->loop != nullptr && !uv_is_closing(hd)) uv_close(hd, closed);
  }
  w.in.clear();
}

// The running worker with the least in flight, starting workers as needed.
PasswordHasher::Worker* PasswordHasher::pick(uv_loop_t* loop) {
  if (workers_.empty()) configure(0, max_queued_, max_wait_ms_);
  Worker* best = nullptr;
  for (auto& w : workers_) {
    if (!ensure_worker(loop, *w)) continue;
    if (best == nullptr || w->in_flight < best->in_flight) best = w.get();
    if (best->in_flight == 0) break;
  }
  return best;
}

void PasswordHasher::finish(Pending& p, int result, std::string hash) {
  if (p.hashed) p.hashed(result == 1 ? std::move(hash) : std::string());
  if (p.verified) p.verified(result == kExpired ? kWaitedTooLong : result);
}

void PasswordHasher::send(Worker& w, uint8_t op, std::string_view password, std::string_view hash, Pending p) {
  uint32_t id = next_id_++;
  auto* wr = new WriteReq;
  std::string& f = wr->bytes;
  put_u32(&f, static_cast<uint32_t>(4 + 1 + 8 + 2 + password.size() + 2 + hash.size()));
  put_u32(&f, id);
  f.push_back(static_cast<char>(op));
  put_u64(&f, max_wait_ms_ > 0 ? monotonic_ms() + static_cast<uint64_t>(max_wait_ms_) : 0);
  put_u16(&f, password.size());
  f.append(password);
  put_u16(&f, hash.size());
  f.append(hash);
  p.worker = w.index;
  pending_.emplace(id, std::move(p));
  ++w.in_flight;
  uv_buf_t buf = uv_buf_init(f.data(), static_cast<unsigned>(f.size()));
  wr->req.data = wr;
  int r = uv_write(&wr->req, reinterpret_cast<uv_stream_t*>(&w.to), &buf, 1, [](uv_write_t* req, int) {
    auto* done = static_cast<WriteReq*>(req->data);
    sodium_memzero(done->bytes.data(), done->bytes.size());
    delete done;
  });
  if (r != 0) {
    sodium_memzero(f.data(), f.size());
    delete wr;
    --w.in_flight;
    Pending failed = std::move(pending_[id]);
    pending_.erase(id);
    finish(failed, -1, {});
  }
}

void PasswordHasher::on_frames(Worker& w) {
  while (w.in.size() >= 4) {
    uint32_t len = get_u32(w.in.data());
    if (len > kMaxFrame || len < 7) {
      LOG_ERROR("password worker %zu sent a malformed frame", w.index);
      uv_process_kill(&w.process, SIGKILL);
      return;
    }
    if (w.in.size() < 4 + len) return;
    uint32_t id = get_u32(w.in.data() + 4);
    uint8_t result = static_cast<uint8_t>(w.in[8]);
    uint16_t hlen = get_u16(w.in.data() + 9);
    std::string hash = hlen <= len - 7 ? w.in.substr(11, hlen) : std::string();
    w.in.erase(0, 4 + len);
    auto it = pending_.find(id);
    if (it == pending_.end() || it->second.worker != w.index) continue;
    Pending p = std::move(it->second);
    pending_.erase(it);
    --w.in_flight;
    finish(p, result == kFailed ? -1 : result, std::move(hash));
  }
}

// The worker died or is being closed: what it had in flight fails.
void PasswordHasher::fail_worker(Worker& w) {
  std::vector<Pending> failed;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.worker == w.index) {
      failed.push_back(std::move(it->second));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  w.in_flight = 0;
  for (auto& p : failed) finish(p, -1, {});
}

void PasswordHasher::hash(uv_loop_t* loop, std::string password, std::function<void(std::string)> done) {
  // A frame the worker would refuse would end it, and everyone's checks with it.
  Worker* w = busy() || password.size() > kMaxPasswordBytes ? nullptr : pick(loop);
  if (w == nullptr) {
    sodium_memzero(password.data(), password.size());
    return done(std::string());
  }
  send(*w, kHash, password, {}, Pending{std::move(done), nullptr});
  sodium_memzero(password.data(), password.size());
}

void PasswordHasher::verify(uv_loop_t* loop, std::string stored_hash, std::string password,
                            std::function<void(int)> done) {
  bool fits = password.size() <= kMaxPasswordBytes && stored_hash.size() < crypto_pwhash_STRBYTES;
  Worker* w = busy() || !fits ? nullptr : pick(loop);
  if (w == nullptr) {
    sodium_memzero(password.data(), password.size());
    return done(-1);
  }
  send(*w, kVerify, password, stored_hash, Pending{nullptr, std::move(done)});
  sodium_memzero(password.data(), password.size());
}

void PasswordHasher::close() {
  for (auto& w : workers_) {
    bool was_running = w->running;
    w->running = false;
    fail_worker(*w);
    if (was_running) uv_process_kill(&w->process, SIGTERM);
    release_handles(*w);
  }
}

// --- the worker process -----------------------------------------------------

namespace {

bool read_exact(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool write_exact(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t r = write(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// A valid hash of a random password, for unknown users.
std::string dummy_hash() {
  char out[crypto_pwhash_STRBYTES];
  unsigned char pw[16];
  randombytes_buf(pw, sizeof pw);
  if (crypto_pwhash_str(out, reinterpret_cast<const char*>(pw), sizeof pw, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return {};
  return out;
}

}  // namespace

int run_hash_worker() {
  if (sodium_init() < 0) return 1;
  // The lowest CPU class: the daemon's loop always goes first.
  struct sched_param none = {};
  if (sched_setscheduler(0, SCHED_IDLE, &none) != 0) setpriority(PRIO_PROCESS, 0, 19);
  std::string dummy;
  std::string frame;
  for (;;) {
    char head[4];
    if (!read_exact(0, head, 4)) return 0;  // the daemon closed the pipe
    uint32_t len = get_u32(head);
    if (len > kMaxFrame || len < 17) return 1;
    frame.resize(len);
    if (!read_exact(0, frame.data(), len)) return 1;
    uint32_t id = get_u32(frame.data());
    uint8_t op = static_cast<uint8_t>(frame[4]);
    uint64_t deadline = get_u64(frame.data() + 5);
    uint16_t plen = get_u16(frame.data() + 13);
    if (15u + plen + 2 > len) return 1;
    std::string_view password(frame.data() + 15, plen);
    uint16_t hlen = get_u16(frame.data() + 15 + plen);
    if (17u + plen + hlen > len) return 1;
    std::string hash(frame.data() + 17 + plen, hlen);

    uint8_t result = kFailed;
    std::string out_hash;
    if (deadline != 0 && monotonic_ms() > deadline) {
      result = kExpired;  // the caller has been answered 503 by now: skip the work
    } else if (op == kHash) {
      char out[crypto_pwhash_STRBYTES];
      if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0) {
        result = 1;
        out_hash = out;
      }
    } else if (op == kVerify) {
      bool known = !hash.empty();
      if (!known && dummy.empty()) dummy = dummy_hash();
      const std::string& h = known ? hash : dummy;
      bool match = !h.empty() && crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
      result = h.empty() ? kFailed : static_cast<uint8_t>(match && known);
    }
    sodium_memzero(frame.data(), frame.size());
    std::string reply;
    put_u32(&reply, static_cast<uint32_t>(4 + 1 + 2 + out_hash.size()));
    put_u32(&reply, id);
    reply.push_back(static_cast<char>(result));
    put_u16(&reply, out_hash.size());
    reply += out_hash;
    if (!write_exact(1, reply.data(), reply.size())) return 1;
  }
}

}  // namespace crewship::api
