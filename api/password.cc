#include "api/password.h"

#include <cstring>
#include <memory>

#include <sched.h>
#include <sodium.h>
#include <sys/resource.h>
#include <unistd.h>

#include "daemon/log.h"

namespace crewship::api {
namespace {

// Frames, all integers little-endian:
//   request:  u32 length | u32 id | u8 op | u16 password length | password | u16 hash length | hash
//   response: u32 length | u32 id | u8 result | u16 hash length | hash
// length counts the bytes after itself. op: 1 hash, 2 verify. result: 1 ok /
// match, 0 no match, 255 failure.
constexpr uint8_t kHash = 1, kVerify = 2;
constexpr uint8_t kFailed = 255;
constexpr size_t kMaxFrame = 4096;

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
uint16_t get_u16(const char* p) {
  return static_cast<uint16_t>(static_cast<unsigned char>(p[0]) | (static_cast<unsigned char>(p[1]) << 8));
}

struct WriteReq {
  uv_write_t req;
  std::string bytes;
};

}  // namespace

bool PasswordHasher::ensure_worker(uv_loop_t* loop) {
  if (running_) return true;
  if (open_handles_ > 0) return false;  // the last worker's handles are still closing
  loop_ = loop;
  char exe[4096];
  size_t len = sizeof exe;
  if (uv_exepath(exe, &len) != 0) return false;
  uv_pipe_init(loop, &to_worker_, 0);
  uv_pipe_init(loop, &from_worker_, 0);
  to_worker_.data = from_worker_.data = this;
  uv_stdio_container_t stdio[3];
  stdio[0].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_READABLE_PIPE);
  stdio[0].data.stream = reinterpret_cast<uv_stream_t*>(&to_worker_);
  stdio[1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[1].data.stream = reinterpret_cast<uv_stream_t*>(&from_worker_);
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
    auto* h = static_cast<PasswordHasher*>(p->data);
    if (h->running_) LOG_WARN("password worker exited (status %lld, signal %d)", static_cast<long long>(status), sig);
    h->running_ = false;
    h->fail_all();
    h->release_handles();
  };
  open_handles_ = 3;  // uv_spawn initialises the process handle even when it fails
  int r = uv_spawn(loop, &process_, &opts);
  process_.data = this;
  if (r != 0) {
    LOG_ERROR("cannot start the password worker: %s", uv_strerror(r));
    release_handles();
    return false;
  }
  running_ = true;
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&from_worker_),
      [](uv_handle_t*, size_t suggested, uv_buf_t* buf) {
        buf->base = new char[suggested];
        buf->len = suggested;
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        auto* h = static_cast<PasswordHasher*>(s->data);
        if (n > 0) h->in_.append(buf->base, static_cast<size_t>(n));
        delete[] buf->base;
        if (n > 0) h->on_frames();
        if (n < 0) uv_read_stop(s);  // the exit callback cleans up
      });
  return true;
}

void PasswordHasher::release_handles() {
  auto closed = [](uv_handle_t* hd) { static_cast<PasswordHasher*>(hd->data)->open_handles_--; };
  for (uv_handle_t* hd : {reinterpret_cast<uv_handle_t*>(&to_worker_), reinterpret_cast<uv_handle_t*>(&from_worker_),
                          reinterpret_cast<uv_handle_t*>(&process_)}) {
    if (hd->loop != nullptr && !uv_is_closing(hd)) uv_close(hd, closed);
  }
  in_.clear();
}

void PasswordHasher::send(uint8_t op, std::string_view password, std::string_view hash, Pending p) {
  uint32_t id = next_id_++;
  auto* w = new WriteReq;
  std::string& f = w->bytes;
  put_u32(&f, static_cast<uint32_t>(4 + 1 + 2 + password.size() + 2 + hash.size()));
  put_u32(&f, id);
  f.push_back(static_cast<char>(op));
  put_u16(&f, password.size());
  f.append(password);
  put_u16(&f, hash.size());
  f.append(hash);
  pending_.emplace(id, std::move(p));
  uv_buf_t buf = uv_buf_init(f.data(), static_cast<unsigned>(f.size()));
  w->req.data = w;
  int r = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&to_worker_), &buf, 1, [](uv_write_t* req, int) {
    auto* wr = static_cast<WriteReq*>(req->data);
    sodium_memzero(wr->bytes.data(), wr->bytes.size());
    delete wr;
  });
  if (r != 0) {
    sodium_memzero(f.data(), f.size());
    delete w;
    Pending failed = std::move(pending_[id]);
    pending_.erase(id);
    if (failed.hashed) failed.hashed(std::string());
    if (failed.verified) failed.verified(-1);
  }
}

void PasswordHasher::on_frames() {
  while (in_.size() >= 4) {
    uint32_t len = get_u32(in_.data());
    if (len > kMaxFrame || len < 7) {
      LOG_ERROR("password worker sent a malformed frame");
      uv_process_kill(&process_, SIGKILL);
      return;
    }
    if (in_.size() < 4 + len) return;
    uint32_t id = get_u32(in_.data() + 4);
    uint8_t result = static_cast<uint8_t>(in_[8]);
    uint16_t hlen = get_u16(in_.data() + 9);
    std::string hash = hlen <= len - 7 ? in_.substr(11, hlen) : std::string();
    in_.erase(0, 4 + len);
    auto it = pending_.find(id);
    if (it == pending_.end()) continue;
    Pending p = std::move(it->second);
    pending_.erase(it);
    if (p.hashed) p.hashed(result == 1 ? std::move(hash) : std::string());
    if (p.verified) p.verified(result == kFailed ? -1 : result);
  }
}

void PasswordHasher::fail_all() {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, p] : pending) {
    if (p.hashed) p.hashed(std::string());
    if (p.verified) p.verified(-1);
  }
}

void PasswordHasher::hash(uv_loop_t* loop, std::string password, std::function<void(std::string)> done) {
  if (!ensure_worker(loop)) {
    sodium_memzero(password.data(), password.size());
    return done(std::string());
  }
  send(kHash, password, {}, Pending{std::move(done), nullptr});
  sodium_memzero(password.data(), password.size());
}

void PasswordHasher::verify(uv_loop_t* loop, std::string stored_hash, std::string password,
                            std::function<void(int)> done) {
  if (!ensure_worker(loop)) {
    sodium_memzero(password.data(), password.size());
    return done(-1);
  }
  send(kVerify, password, stored_hash, Pending{nullptr, std::move(done)});
  sodium_memzero(password.data(), password.size());
}

void PasswordHasher::close() {
  running_ = false;
  fail_all();
  if (open_handles_ > 0) uv_process_kill(&process_, SIGTERM);
  release_handles();
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
    if (len > kMaxFrame || len < 9) return 1;
    frame.resize(len);
    if (!read_exact(0, frame.data(), len)) return 1;
    uint32_t id = get_u32(frame.data());
    uint8_t op = static_cast<uint8_t>(frame[4]);
    uint16_t plen = get_u16(frame.data() + 5);
    if (7u + plen + 2 > len) return 1;
    std::string_view password(frame.data() + 7, plen);
    uint16_t hlen = get_u16(frame.data() + 7 + plen);
    if (9u + plen + hlen > len) return 1;
    std::string hash(frame.data() + 9 + plen, hlen);

    uint8_t result = kFailed;
    std::string out_hash;
    if (op == kHash) {
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
