#include "container/agent_log.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/dirs.h"
#include "daemon/ids.h"
#include "daemon/json.h"
#include "daemon/log.h"
#include "daemon/offload.h"

namespace crewship::container {

namespace fs = std::filesystem;

class AgentLog::Follower {
 public:
  std::function<bool(const std::string&)> sink;
  std::function<bool()> ready;
  std::function<void()> ended;
  int64_t want = 0;       // entries before this offset are not sent
  int64_t seg_first = 0;  // the segment read from
  int64_t pos = 0;        // byte position in it read up to
  int64_t at = 0;         // offset of the entry at pos
  bool live = false;      // caught up: gets appends as they happen
  bool gone = false;
};

// A read on the thread pool, across the segments from the one holding the
// start; a segment deleted meanwhile is stepped over.
struct AgentLog::Scan {
  struct Ref {
    std::string path;
    int64_t first;
  };
  std::vector<Ref> segs;
  size_t seg = 0;       // being read
  int64_t pos = 0;      // byte position in segs[seg]; afterwards, where its complete lines end
  int64_t at = 0;       // offset of the entry at pos
  int64_t want = 0;     // entries before this offset are skipped
  int64_t limit = -1;   // entries wanted (-1: all)
  int64_t max_bytes = INT64_MAX;  // stop after keeping this much
  Lines lines;
  int64_t first = -1;   // offset of lines[0]
};

// Appends of one log, in order: the newest segment's descriptor, used only by
// the batch whose turn it is.
struct AgentLog::Sink {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t turn = 0;    // the batch that may write now
  uint64_t issued = 0;  // loop thread: batches handed out
  int fd = -1;
  int64_t fd_first = -1;  // the segment fd is open on

  ~Sink() {
    if (fd >= 0) ::close(fd);
  }
  void write(Batch* b) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return turn == b->turn; });
    for (Batch::Chunk& c : b->chunks) {
      if (fd < 0 || fd_first != c.first) {
        if (fd >= 0) ::close(fd);
        fd = ::open(c.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        fd_first = fd >= 0 ? c.first : -1;
        if (fd < 0) {
          b->error = c.path + ": " + std::strerror(errno);
          break;
        }
      }
      while (c.written < static_cast<int64_t>(c.data.size())) {
        ssize_t n = ::write(fd, c.data.data() + c.written, c.data.size() - static_cast<size_t>(c.written));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          b->error = c.path + ": " + std::strerror(n < 0 ? errno : ENOSPC);
          break;
        }
        c.written += n;
      }
      if (!b->error.empty()) break;
    }
    ++turn;
    cv.notify_all();
  }
};

namespace {

constexpr int64_t kCatchUpBytes = 256 << 10;  // what a follower is sent per read
constexpr uint64_t kRoomRetryMs = 20;
constexpr size_t kDigits = 20;

std::string segment_name(int64_t first) {
  char name[kDigits + 8];
  std::snprintf(name, sizeof name, "%020" PRId64 ".jsonl", first);
  return name;
}

// "00000000000000001234.jsonl" -> 1234; -1 for any other name.
int64_t segment_first(const std::string& name) {
  if (name.size() != kDigits + 6 || name.compare(kDigits, 6, ".jsonl") != 0) return -1;
  int64_t v = 0;
  for (size_t i = 0; i < kDigits; ++i) {
    if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10) return -1;
    v = v * 10 + (name[i] - '0');
  }
  return v;
}

int64_t count_lines(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  std::string buf(64 << 10, '\0');
  int64_t n = 0;
  ssize_t got;
  while ((got = ::read(fd, buf.data(), buf.size())) > 0)
    n += std::count(buf.data(), buf.data() + got, '\n');
  ::close(fd);
  return n;
}

struct Found {
  std::vector<std::pair<int64_t, int64_t>> segs;  // first, bytes
  int64_t last_entries = 0;
  std::string error;
};

// Lists dir's segments, taking over the newest legacy log when there is none.
// Runs on the thread pool.
void find_segments(const std::string& dir, const std::string& legacy_root, Found* out) {
  if (int r = make_dirs(dir, 0700); r != 0) {
    out->error = std::strerror(-r);
    return;
  }
  std::error_code ec;
  for (int round = 0; round < 2 && out->segs.empty(); ++round) {
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      int64_t first = segment_first(e.path().filename().string());
      struct stat st;
      if (first >= 0 && ::stat(e.path().c_str(), &st) == 0 && S_ISREG(st.st_mode))
        out->segs.emplace_back(first, st.st_size);
    }
    if (!out->segs.empty() || legacy_root.empty() || round > 0) break;
    std::string agent = fs::path(dir).filename().string();
    std::string newest;
    int64_t newest_mtime = -1;
    for (const auto& crew : fs::directory_iterator(legacy_root, ec)) {
      std::string p = crew.path().string() + "/agents/" + agent + "/current.jsonl";
      struct stat st;
      if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime > newest_mtime) {
        newest = p;
        newest_mtime = st.st_mtime;
      }
    }
    if (newest.empty()) break;
    std::string taken = dir + "/" + segment_name(0);
    if (::rename(newest.c_str(), taken.c_str()) != 0) {
      out->error = "taking over " + newest + ": " + std::strerror(errno);
      return;
    }
    ::chmod(taken.c_str(), 0600);
  }
  std::sort(out->segs.begin(), out->segs.end());
  if (!out->segs.empty()) out->last_entries = count_lines(dir + "/" + segment_name(out->segs.back().first));
}

// Reads complete lines of one file from scan->pos. Returns false when the
// file cannot be opened; *at_end tells whether it read to the end.
bool scan_file(const std::string& path, AgentLog::Scan* scan, bool* at_end) {
  *at_end = false;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string buf(64 << 10, '\0');
  std::string partial;
  int64_t from = scan->pos;
  int64_t kept = 0;
  while (scan->limit != 0 && kept < scan->max_bytes) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), from);
    if (n <= 0) {
      *at_end = true;
      break;
    }
    from += n;
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
      if (scan->at++ >= scan->want) {
        if (scan->first < 0) scan->first = scan->at - 1;
        kept += static_cast<int64_t>(partial.size());
        scan->lines.push_back(std::move(partial));
        if (scan->limit > 0) --scan->limit;
      }
      partial.clear();
    }
  }
  ::close(fd);
  return true;
}

void scan_segments(AgentLog::Scan* scan) {
  while (scan->seg < scan->segs.size()) {
    bool at_end = false;
    bool opened = scan_file(scan->segs[scan->seg].path, scan, &at_end);
    if (opened && !at_end) return;  // limit or max_bytes reached
    if (scan->seg + 1 == scan->segs.size()) return;
    ++scan->seg;
    scan->pos = 0;
    scan->at = scan->segs[scan->seg].first;
  }
}

}  // namespace

AgentLog::AgentLog(uv_loop_t* loop, std::string dir, int64_t max_bytes, std::string legacy_root)
    : loop_(loop),
      dir_(std::move(dir)),
      legacy_root_(std::move(legacy_root)),
      max_bytes_(max_bytes),
      segment_bytes_(std::max<int64_t>(1, max_bytes / kSegmentsPerCap)),
      sink_(std::make_shared<Sink>()),
      alive_(std::make_shared<bool>(true)) {}

AgentLog::~AgentLog() {
  *alive_ = false;
  if (retry_ != nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(retry_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  }
  for (auto& f : followers_) {
    if (!f->gone && f->ended) f->ended();
  }
  // Entries not written yet still go, after those under way (the sink's turns).
  if (state_ == State::kReady && !queued_.empty()) write_queued();
}

std::string AgentLog::segment_path(int64_t first) const { return dir_ + "/" + segment_name(first); }

void AgentLog::when_loaded(std::function<void()> then) {
  if (state_ == State::kReady) return then();
  on_loaded_.push_back(std::move(then));
  if (state_ == State::kLoading) return;
  state_ = State::kLoading;
  auto found = std::make_shared<Found>();
  auto alive = alive_;
  offload(loop_, [dir = dir_, legacy = legacy_root_, found] { find_segments(dir, legacy, found.get()); },
          [this, alive, found] {
            if (!*alive) return;
            if (!found->error.empty()) LOG_WARN("agent log %s: %s", dir_.c_str(), found->error.c_str());
            for (size_t i = 0; i < found->segs.size(); ++i) {
              auto [first, bytes] = found->segs[i];
              segments_.push_back({first, bytes});
              total_bytes_ += bytes;
            }
            if (!segments_.empty()) end_ = segments_.back().first + found->last_entries;
            state_ = State::kReady;
            replan();
            std::vector<std::function<void()>> waiting = std::move(on_loaded_);
            on_loaded_.clear();
            for (auto& fn : waiting) fn();
            if (!writing_ && !queued_.empty()) write_queued();
          });
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
  queued_.push_back(std::move(line));
  if (state_ != State::kReady) return when_loaded([] {});
  if (!writing_) write_queued();
}

// Where the next entry goes: after what is written (nothing is under way).
void AgentLog::replan() {
  plan_first_ = segments_.empty() ? end_ : segments_.back().first;
  plan_bytes_ = segments_.empty() ? 0 : segments_.back().bytes;
  plan_end_ = end_;
}

// The file work of the appends queued: each entry goes to the newest segment,
// or begins the next one when it would pass segment_bytes_; the writes run on
// the thread pool, one batch of a log after the other (the sink's turns), and
// wrote() takes the results back on the loop.
void AgentLog::write_queued() {
  auto batch = std::make_shared<Batch>();
  for (std::string& line : queued_) {
    auto size = static_cast<int64_t>(line.size());
    if (plan_bytes_ > 0 && plan_bytes_ + size > segment_bytes_) {
      plan_first_ = plan_end_;
      plan_bytes_ = 0;
    }
    if (batch->chunks.empty() || batch->chunks.back().first != plan_first_)
      batch->chunks.push_back({plan_first_, segment_path(plan_first_), {}, {}, 0});
    Batch::Chunk& c = batch->chunks.back();
    c.data += line;
    c.sizes.push_back(static_cast<uint32_t>(size));
    plan_bytes_ += size;
    ++plan_end_;
  }
  queued_.clear();
  writing_ = true;
  batch->turn = sink_->issued++;
  auto alive = alive_;
  offload(loop_, [sink = sink_, batch] { sink->write(batch.get()); }, [this, alive, batch] {
    if (!*alive) return;
    wrote(*batch);
  });
}

void AgentLog::wrote(const Batch& batch) {
  writing_ = false;
  if (!batch.error.empty()) LOG_WARN("agent log %s: %s", dir_.c_str(), batch.error.c_str());
  for (const Batch::Chunk& c : batch.chunks) {
    if (segments_.empty() || segments_.back().first != c.first) {
      if (c.written == 0) break;  // never made
      segments_.push_back({c.first, 0});
      // The oldest segments the cap has no room for go (on the thread pool).
      while (segments_.size() > 1 && total_bytes_ + segment_bytes_ > max_bytes_) {
        std::string path = segment_path(segments_.front().first);
        total_bytes_ -= segments_.front().bytes;
        segments_.pop_front();
        offload(loop_, [path] { ::unlink(path.c_str()); }, [] {});
      }
    }
    Segment& seg = segments_.back();
    int64_t at = 0;
    for (uint32_t size : c.sizes) {
      int64_t left = c.written - at;
      if (left < static_cast<int64_t>(size)) {  // a partial line joins the next one: one entry
        seg.bytes += std::max<int64_t>(0, left);
        total_bytes_ += std::max<int64_t>(0, left);
        break;
      }
      seg.bytes += size;
      total_bytes_ += size;
      int64_t offset = end_++;
      std::string line = c.data.substr(static_cast<size_t>(at), size - 1);
      at += size;
      for (auto it = followers_.begin(); it != followers_.end();) {
        Follower* f = it->get();
        ++it;
        // A follower that read this entry from the file already has it.
        if (!f->live || offset < f->at) continue;
        f->seg_first = seg.first;
        f->pos = seg.bytes;
        f->at = offset + 1;
        if (offset >= f->want && !f->sink(line)) remove(f);
      }
    }
    if (c.written < static_cast<int64_t>(c.data.size())) break;
  }
  replan();
  ++batches_done_;
  if (!queued_.empty()) write_queued();
  std::vector<std::function<void()>> ready;
  std::erase_if(after_writes_, [&](auto& w) {
    if (w.first > batches_done_) return false;
    ready.push_back(std::move(w.second));
    return true;
  });
  for (auto& fn : ready) fn();
}

// Runs then once every entry appended so far is written, so a read sees them.
void AgentLog::after_writes(std::function<void()> then) {
  uint64_t need = sink_->issued + (queued_.empty() ? 0 : 1);
  if (need <= batches_done_) return then();
  after_writes_.emplace_back(need, std::move(then));
}

std::shared_ptr<AgentLog::Scan> AgentLog::scan_from(int64_t seg_first, int64_t pos, int64_t at,
                                                    int64_t want) const {
  auto scan = std::make_shared<Scan>();
  for (const Segment& s : segments_)
    if (s.first >= seg_first) scan->segs.push_back({segment_path(s.first), s.first});
  scan->pos = pos;
  scan->at = at;
  scan->want = want;
  return scan;
}

void AgentLog::read(int64_t offset, int64_t limit, std::function<void(Page)> done) {
  when_loaded([this, offset, limit, done = std::move(done)]() mutable {
    after_writes([this, offset, limit, done = std::move(done)]() mutable { read_now(offset, limit, std::move(done)); });
  });
}

void AgentLog::read_now(int64_t offset, int64_t limit, std::function<void(Page)> done) {
  if (segments_.empty() || offset >= end_) {
    Page empty;
    empty.first = offset;
    return done(std::move(empty));
  }
  int64_t start = std::max(offset, segments_.front().first);
  // The segment holding start: the last that begins at or before it.
  auto seg = std::upper_bound(segments_.begin(), segments_.end(), start,
                              [](int64_t v, const Segment& s) { return v < s.first; });
  int64_t seg_first = std::prev(seg)->first;
  auto scan = scan_from(seg_first, 0, seg_first, start);
  scan->limit = limit;
  offload(loop_, [scan] { scan_segments(scan.get()); }, [scan, offset, done = std::move(done)] {
    Page page;
    page.lines = std::move(scan->lines);
    page.first = scan->first >= 0 ? scan->first : scan->at;
    page.truncated = page.first > offset && !page.lines.empty();
    done(std::move(page));
  });
}

void AgentLog::tail(int64_t n, std::function<void(Lines)> done) {
  when_loaded([this, n, done = std::move(done)]() mutable {
    after_writes([this, n, done = std::move(done)]() mutable {
      read_now(std::max<int64_t>(0, end_ - n), n, [done = std::move(done)](Page p) { done(std::move(p.lines)); });
    });
  });
}

void AgentLog::first_kept(std::function<void(int64_t)> done) {
  when_loaded([this, done = std::move(done)] { done(segments_.empty() ? end_ : segments_.front().first); });
}

AgentLog::Follower* AgentLog::follow(int64_t offset, std::function<bool(const std::string&)> sink,
                                     std::function<bool()> ready, std::function<void()> ended) {
  auto f = std::make_unique<Follower>();
  f->sink = std::move(sink);
  f->ready = std::move(ready);
  f->ended = std::move(ended);
  f->want = offset;
  Follower* raw = f.get();
  followers_.push_back(std::move(f));
  auto alive = alive_;
  when_loaded([this, alive, raw] {
    if (!*alive) return;
    if (raw->gone) return remove(raw);
    start_follow(raw);
  });
  return raw;
}

void AgentLog::start_follow(Follower* f) {
  if (segments_.empty() || f->want >= end_) {
    f->seg_first = segments_.empty() ? end_ : segments_.back().first;
    f->pos = segments_.empty() ? 0 : segments_.back().bytes;
    f->at = end_;
    f->live = true;
    return;
  }
  int64_t start = std::max(f->want, segments_.front().first);
  auto seg = std::upper_bound(segments_.begin(), segments_.end(), start,
                              [](int64_t v, const Segment& s) { return v < s.first; });
  f->seg_first = f->at = std::prev(seg)->first;
  f->pos = 0;
  catch_up(f);
}

bool AgentLog::caught_up(const Follower* f) const {
  return segments_.empty() || (f->seg_first == segments_.back().first && f->pos >= segments_.back().bytes);
}

// Reads the segments from the follower's position; once nothing is left
// that this process has written, the follower goes live. Appends happen on
// this thread, so the comparison with the newest segment cannot miss one.
void AgentLog::catch_up(Follower* f) {
  if (f->seg_first < segments_.front().first) {  // its segment was deleted: on from the oldest kept
    f->seg_first = f->at = segments_.front().first;
    f->pos = 0;
  }
  if (caught_up(f)) {
    f->live = true;
    return;
  }
  auto scan = scan_from(f->seg_first, f->pos, f->at, f->want);
  scan->max_bytes = kCatchUpBytes;
  auto alive = alive_;
  offload(loop_, [scan] { scan_segments(scan.get()); }, [this, alive, f, scan] {
    if (!*alive) return;
    if (f->gone) return remove(f);
    if (scan->seg < scan->segs.size()) {
      f->seg_first = scan->segs[scan->seg].first;
      f->pos = scan->pos;
      f->at = scan->at;
    }
    for (const std::string& line : scan->lines) {
      if (!f->sink(line)) return remove(f);
    }
    if (caught_up(f)) {
      f->live = true;
      return;
    }
    f->ready() ? catch_up(f) : wait_for_room(f);
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
    f->gone = true;  // the read or load in flight removes it
    return;
  }
  remove(f);
}

void AgentLog::remove(Follower* f) {
  followers_.remove_if([f](const std::unique_ptr<Follower>& p) { return p.get() == f; });
}

}  // namespace crewship::container
