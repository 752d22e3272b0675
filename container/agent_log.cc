#include "container/agent_log.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/dirs.h"
#include "daemon/ids.h"
#include "daemon/json.h"
#include "daemon/log.h"
#include "daemon/offload.h"

namespace crewship::container {

class AgentLog::Follower {
 public:
  std::function<bool(const std::string&)> sink;
  std::function<bool()> ready;
  std::function<void()> ended;
  int64_t skip = 0;     // entries still to skip (the requested offset)
  int64_t pos = 0;      // byte position read up to
  bool live = false;    // caught up: gets appends as they happen
  bool gone = false;
};

namespace {

constexpr int64_t kCatchUpBytes = 256 << 10;  // what a follower is sent per read
constexpr uint64_t kRoomRetryMs = 20;

struct Scan {
  std::vector<std::string> lines;
  int64_t skip = 0;   // entries to skip first
  int64_t limit = 0;  // entries wanted (-1: all)
  int64_t pos = 0;    // where to start; afterwards, where the complete lines end
  int64_t max_bytes = INT64_MAX;  // stop after keeping this much
};

// Reads complete lines from scan->pos, skipping and keeping as asked. Runs on
// the thread pool.
void scan_file(const std::string& path, Scan* scan) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  std::string buf(64 << 10, '\0');
  std::string partial;
  int64_t at = scan->pos;
  int64_t kept = 0;
  while (scan->limit != 0 && kept < scan->max_bytes) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), at);
    if (n <= 0) break;
    at += n;
    std::string_view data(buf.data(), static_cast<size_t>(n));
    while (!data.empty() && scan->limit != 0 && kept < scan->max_bytes) {
      size_t nl = data.find('\n');
      if (nl == std::string_view::npos) {
        partial.append(data);
        break;
      }
      partial.append(data.substr(0, nl));
      data.remove_prefix(nl + 1);
      scan->pos += static_cast<int64_t>(partial.size()) + 1;
      if (scan->skip > 0) {
        --scan->skip;
      } else {
        kept += static_cast<int64_t>(partial.size());
        scan->lines.push_back(std::move(partial));
        if (scan->limit > 0) --scan->limit;
      }
      partial.clear();
    }
  }
  ::close(fd);
}

}  // namespace

AgentLog::AgentLog(uv_loop_t* loop, std::string path)
    : loop_(loop), path_(std::move(path)), alive_(std::make_shared<bool>(true)) {}

AgentLog::~AgentLog() {
  *alive_ = false;
  if (retry_ != nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(retry_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  }
  for (auto& f : followers_) {
    if (!f->gone && f->ended) f->ended();
  }
  if (fd_ >= 0) ::close(fd_);
}

int AgentLog::open_for_append() {
  if (fd_ >= 0) return 0;
  make_dirs(std::filesystem::path(path_).parent_path().string(), 0700);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return -errno;
  struct stat st;
  size_ = fstat(fd_, &st) == 0 ? st.st_size : 0;
  return 0;
}

void AgentLog::append(std::string_view stream, std::string_view content) {
  json::Out out;
  out.begin_object();
  out.member("ts", now_rfc3339_nanos());
  out.member("stream", stream);
  out.member("content", json::printable(content));
  out.end_object();
  std::string line = out.take();
  line += '\n';
  if (int r = open_for_append(); r != 0) {
    LOG_WARN("agent log %s: %s", path_.c_str(), strerror(-r));
    return;
  }
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      LOG_WARN("agent log %s: %s", path_.c_str(), strerror(errno));
      break;
    }
    done += static_cast<size_t>(n);
  }
  size_ += static_cast<int64_t>(done);
  line.pop_back();
  for (auto it = followers_.begin(); it != followers_.end();) {
    Follower* f = it->get();
    ++it;
    if (!f->live) continue;
    f->pos = size_;
    if (f->skip > 0) {
      --f->skip;
    } else if (!f->sink(line)) {
      remove(f);
    }
  }
}

void AgentLog::read(int64_t offset, int64_t limit, std::function<void(Lines)> done) {
  auto scan = std::make_shared<Scan>();
  scan->skip = offset;
  scan->limit = limit;
  offload(loop_, [path = path_, scan] { scan_file(path, scan.get()); },
          [scan, done = std::move(done)] { done(std::move(scan->lines)); });
}

void AgentLog::tail(int64_t n, std::function<void(Lines)> done) {
  // The last 256 KiB hold them unless the entries are long; a scan that
  // starts inside an entry drops that first piece.
  struct stat st;
  int64_t size = ::stat(path_.c_str(), &st) == 0 ? st.st_size : 0;
  auto scan = std::make_shared<Scan>();
  scan->pos = std::max<int64_t>(0, size - kCatchUpBytes);
  scan->limit = -1;
  offload(loop_, [path = path_, scan] { scan_file(path, scan.get()); },
          [scan, n, cut = scan->pos > 0, done = std::move(done)] {
            Lines& lines = scan->lines;
            if (cut && !lines.empty()) lines.erase(lines.begin());
            if (static_cast<int64_t>(lines.size()) > n) lines.erase(lines.begin(), lines.end() - n);
            done(std::move(lines));
          });
}

AgentLog::Follower* AgentLog::follow(int64_t offset, std::function<bool(const std::string&)> sink,
                                     std::function<bool()> ready, std::function<void()> ended) {
  auto f = std::make_unique<Follower>();
  f->sink = std::move(sink);
  f->ready = std::move(ready);
  f->ended = std::move(ended);
  f->skip = offset;
  Follower* raw = f.get();
  followers_.push_back(std::move(f));
  catch_up(raw);
  return raw;
}

// Reads the file from the follower's position; once nothing is left that this
// process has written, the follower goes live. Appends happen on this thread,
// so the comparison with size_ cannot miss one.
void AgentLog::catch_up(Follower* f) {
  if (size_ < 0) {
    struct stat st;
    size_ = ::stat(path_.c_str(), &st) == 0 ? st.st_size : 0;
  }
  if (f->skip == 0 && f->pos >= size_) {
    f->live = true;
    return;
  }
  auto scan = std::make_shared<Scan>();
  scan->skip = f->skip;
  scan->limit = -1;
  scan->pos = f->pos;
  scan->max_bytes = kCatchUpBytes;
  auto alive = alive_;
  offload(loop_, [path = path_, scan] { scan_file(path, scan.get()); }, [this, alive, f, scan] {
    if (!*alive) return;
    if (f->gone) return remove(f);
    f->skip = scan->skip;  // what is left when the offset lies beyond the end
    f->pos = scan->pos;
    for (const std::string& line : scan->lines) {
      if (!f->sink(line)) return remove(f);
    }
    if (f->pos < size_) return f->ready() ? catch_up(f) : wait_for_room(f);
    f->live = true;
  });
}

// A follower whose client has not taken what it was sent waits; the file is
// read on only when there is room.
void AgentLog::wait_for_room(Follower* f) {
  waiting_.push_back(f);
  if (retry_ == nullptr) {
    retry_ = new uv_timer_t;
    uv_timer_init(loop_, retry_);
    retry_->data = this;
  }
  uv_timer_start(retry_, [](uv_timer_t* t) {
    auto* log = static_cast<AgentLog*>(t->data);
    std::vector<Follower*> waiting = std::move(log->waiting_);
    log->waiting_.clear();
    for (Follower* w : waiting) {
      if (w->gone) {
        log->remove(w);
      } else if (w->ready()) {
        log->catch_up(w);
      } else {
        log->wait_for_room(w);
      }
    }
  }, kRoomRetryMs, 0);
}

void AgentLog::unfollow(Follower* f) {
  if (!f->live) {
    f->gone = true;  // its read in flight removes it
    return;
  }
  remove(f);
}

void AgentLog::remove(Follower* f) {
  followers_.remove_if([f](const std::unique_ptr<Follower>& p) { return p.get() == f; });
}

}  // namespace crewship::container
