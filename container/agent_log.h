// An agent's log: one JSON object per line ({"ts","stream","content"}) in
// segment files <dir>/<first entry, 20 digits>.jsonl, dir being
// <data>/logs/agents/<agent> whatever crew the agent is in. Each entry has an
// offset, its number since the log began, which rotation never changes. The
// newest segment takes the appends; once it would pass an eighth of the cap,
// a new one begins, and the oldest segments are deleted whole while the log
// holds more than the cap (the newest segment always stays).
//
// The file work runs on the thread pool: finding the segments at first use,
// appends (in batches, one after the other; an entry counts and reaches
// followers once written, never synced), reads, and deleting a segment. A
// log read before its segments are known waits for them, and appends made
// meanwhile are kept in order. Followers first get what the
// segments hold from their offset, then each new entry, without gaps.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

namespace crewship::container {

class AgentLog {
 public:
  // legacy_root holds the logs of older versions (<crew>/agents/<agent>/
  // current.jsonl, <agent> being dir's last component): when dir has no
  // segment yet, the newest such file becomes its first segment.
  AgentLog(uv_loop_t* loop, std::string dir, int64_t max_bytes, std::string legacy_root = {});
  ~AgentLog();
  AgentLog(const AgentLog&) = delete;
  AgentLog& operator=(const AgentLog&) = delete;

  static constexpr size_t kMaxContent = 64 << 10;  // longer output lines are split
  static constexpr int64_t kSegmentsPerCap = 8;

  // Appends one entry; content need not be UTF-8 (bytes that are not are escaped).
  void append(std::string_view stream, std::string_view content);

  using Lines = std::vector<std::string>;
  struct Page {
    Lines lines;
    int64_t first = 0;       // offset of lines[0] (or where they would start)
    bool truncated = false;  // entries from the offset asked for were deleted
  };
  // Entries [offset, offset + limit) as JSON lines; an offset below the first
  // entry kept answers from that entry, truncated.
  void read(int64_t offset, int64_t limit, std::function<void(Page)> done);

  class Follower;
  // Sends each entry from offset on to sink, as it comes; sink returns false
  // to stop. An offset below the first entry kept starts there. What the
  // segments already hold goes in pieces, each once ready() says the
  // consumer has room. ended runs if the log goes away first (crewshipd
  // stops). Valid until unfollow(), a false from sink, or ended.
  Follower* follow(int64_t offset, std::function<bool(const std::string& line)> sink,
                   std::function<bool()> ready, std::function<void()> ended);

  // The last n entries.
  void tail(int64_t n, std::function<void(Lines)> done);
  // The offset of the first entry kept (the next one's when there is none).
  void first_kept(std::function<void(int64_t)> done);
  void unfollow(Follower* f);

  const std::string& dir() const { return dir_; }

  struct Scan;  // a read on the thread pool

 private:
  struct Segment {
    int64_t first;  // offset of its first entry
    int64_t bytes;
  };
  void when_loaded(std::function<void()> then);
  struct Sink;
  struct Batch {
    struct Chunk {
      int64_t first;  // the segment's
      std::string path;
      std::string data;  // whole lines
      std::vector<uint32_t> sizes;
      int64_t written;
    };
    std::vector<Chunk> chunks;
    uint64_t turn = 0;
    std::string error;
  };
  void replan();
  void write_queued();
  void wrote(const Batch& batch);
  void after_writes(std::function<void()> then);
  void read_now(int64_t offset, int64_t limit, std::function<void(Page)> done);
  std::string segment_path(int64_t first) const;
  std::shared_ptr<Scan> scan_from(int64_t seg_first, int64_t pos, int64_t at, int64_t want) const;
  void start_follow(Follower* f);
  void catch_up(Follower* f);
  bool caught_up(const Follower* f) const;
  void remove(Follower* f);
  void wait_for_room(Follower* f);

  uv_loop_t* loop_;
  std::string dir_;
  std::string legacy_root_;
  int64_t max_bytes_;
  int64_t segment_bytes_;  // a segment ends once it would pass this
  enum class State { kNew, kLoading, kReady } state_ = State::kNew;
  std::vector<std::function<void()>> on_loaded_;
  std::vector<std::string> queued_;   // entries not handed to a write yet
  bool writing_ = false;              // a batch of this log is under way
  int64_t plan_first_ = 0, plan_bytes_ = 0, plan_end_ = 0;  // where queued entries go
  std::shared_ptr<Sink> sink_;
  uint64_t batches_done_ = 0;
  std::vector<std::pair<uint64_t, std::function<void()>>> after_writes_;  // batches they wait for
  std::deque<Segment> segments_;      // oldest first
  int64_t end_ = 0;                   // offset of the next entry
  int64_t total_bytes_ = 0;
  std::list<std::unique_ptr<Follower>> followers_;
  std::shared_ptr<bool> alive_;  // work in flight sees whether the log still exists
  uv_timer_t* retry_ = nullptr;   // looks again at followers waiting for room
  std::vector<Follower*> waiting_;
};

}  // namespace crewship::container
