// An agent's log: one JSON object per line ({"ts","stream","content"}) in
// <data>/logs/crews/<crew>/agents/<agent>/current.jsonl. Entries are appended
// on the loop (a write to the page cache, never a sync), read on the thread
// pool by entry number, and followed live: a follower first gets what the
// file holds from its offset, then each new entry, without gaps.
#pragma once

#include <cstdint>
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
  AgentLog(uv_loop_t* loop, std::string path);
  ~AgentLog();
  AgentLog(const AgentLog&) = delete;
  AgentLog& operator=(const AgentLog&) = delete;

  static constexpr size_t kMaxContent = 64 << 10;  // longer output lines are split

  // Appends one entry; content need not be UTF-8 (bytes that are not are escaped).
  void append(std::string_view stream, std::string_view content);

  using Lines = std::vector<std::string>;
  // Entries [offset, offset + limit) as JSON lines.
  void read(int64_t offset, int64_t limit, std::function<void(Lines)> done);

  class Follower;
  // Sends each entry from offset on to sink, as it comes; sink returns false
  // to stop. What the file already holds goes in pieces, each once ready()
  // says the consumer has room. ended runs if the log goes away first
  // (crewshipd stops). Valid until unfollow(), a false from sink, or ended.
  Follower* follow(int64_t offset, std::function<bool(const std::string& line)> sink,
                   std::function<bool()> ready, std::function<void()> ended);

  // The last n entries.
  void tail(int64_t n, std::function<void(Lines)> done);
  void unfollow(Follower* f);

  const std::string& path() const { return path_; }

 private:
  struct Chunk;
  void catch_up(Follower* f);
  void remove(Follower* f);
  void wait_for_room(Follower* f);
  int open_for_append();

  uv_loop_t* loop_;
  std::string path_;
  int fd_ = -1;
  int64_t size_ = -1;  // bytes in the file as far as this process knows; -1: not opened
  std::list<std::unique_ptr<Follower>> followers_;
  std::shared_ptr<bool> alive_;  // reads in flight see whether the log still exists
  uv_timer_t* retry_ = nullptr;   // looks again at followers waiting for room
  std::vector<Follower*> waiting_;
};

}  // namespace crewship::container
