// An agent's log on a real loop and thread pool: segments and their cap,
// offsets that rotation keeps, truncated pages, followers and resumes across
// rotations, reopening, and taking over the log of an older version.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <criterion/criterion.h>
#include <rapidjson/document.h>
#include <sys/stat.h>

#include "container/agent_log.h"
#include "daemon/dirs.h"
#include "tests/support/harness.h"

using namespace crewship;
using container::AgentLog;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kCap = 4096;  // segments of 512 bytes; an entry is about 75

struct Fixture {
  std::string root = test::make_temp_dir();
  std::string dir = root + "/logs/agents/a1";
  uv_loop_t loop;
  std::unique_ptr<AgentLog> log;
  int64_t next = 0;  // content of the next entry: "n=<its offset>"

  Fixture() {
    uv_loop_init(&loop);
    open();
  }
  ~Fixture() {
    log.reset();
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    test::remove_tree(root);
  }
  void open() { log = std::make_unique<AgentLog>(&loop, dir, kCap, root + "/logs/crews"); }
  void append(int n) {
    for (int i = 0; i < n; ++i) log->append("stdout", "n=" + std::to_string(next++));
  }
  void settle() { uv_run(&loop, UV_RUN_DEFAULT); }
  AgentLog::Page read(int64_t offset, int64_t limit) {
    AgentLog::Page got;
    bool done = false;
    log->read(offset, limit, [&](AgentLog::Page p) {
      got = std::move(p);
      done = true;
    });
    while (!done) uv_run(&loop, UV_RUN_ONCE);
    return got;
  }
  int64_t bytes_on_disk() {
    int64_t total = 0;
    for (const auto& e : fs::directory_iterator(dir)) total += static_cast<int64_t>(e.file_size());
    return total;
  }
  size_t segments() {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
    return n;
  }
};

// The number an entry carries in its content.
int64_t number(const std::string& line) {
  rapidjson::Document d;
  d.Parse(line.data(), line.size());
  cr_assert(d.IsObject() && d.HasMember("content"), "%s", line.c_str());
  return std::stoll(std::string(d["content"].GetString()).substr(2));
}

// Every line carries the number after the one before.
void expect_run(const AgentLog::Lines& lines, int64_t first) {
  for (size_t i = 0; i < lines.size(); ++i)
    cr_assert_eq(number(lines[i]), first + static_cast<int64_t>(i), "entry %zu of %zu", i, lines.size());
}

}  // namespace

TestSuite(agent_log);

Test(agent_log, the_cap_holds_and_offsets_survive_rotation) {
  Fixture f;
  f.append(400);
  f.settle();  // the deletions run on the thread pool
  cr_assert_leq(f.bytes_on_disk(), kCap, "%lld bytes kept", static_cast<long long>(f.bytes_on_disk()));
  cr_assert_geq(f.bytes_on_disk(), kCap - 2 * kCap / AgentLog::kSegmentsPerCap, "whole segments go, no more");
  cr_assert_gt(f.segments(), 4u);

  auto all = f.read(0, 500);
  cr_assert(all.truncated, "offset 0 was rotated away");
  cr_assert_gt(all.first, 300);
  expect_run(all.lines, all.first);
  cr_assert_eq(number(all.lines.back()), 399, "up to the newest");

  auto mid = f.read(all.first + 5, 3);
  cr_assert_not(mid.truncated);
  cr_assert_eq(mid.first, all.first + 5);
  cr_assert_eq(mid.lines.size(), 3u);
  expect_run(mid.lines, all.first + 5);

  auto beyond = f.read(400, 10);
  cr_assert(beyond.lines.empty());
  cr_assert_not(beyond.truncated);

  struct stat st;
  cr_assert_eq(stat(f.dir.c_str(), &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0700u);
  for (const auto& e : fs::directory_iterator(f.dir)) {
    cr_assert_eq(stat(e.path().c_str(), &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600u, "%s", e.path().c_str());
  }
}

Test(agent_log, reopened_it_goes_on_where_it_was) {
  Fixture f;
  f.append(150);
  f.settle();
  auto before = f.read(0, 500);
  f.log.reset();
  f.open();
  f.append(10);
  auto after = f.read(0, 500);
  cr_assert(after.truncated);
  expect_run(after.lines, after.first);
  cr_assert_eq(number(after.lines.back()), 159, "offsets continue after a restart");
  cr_assert_geq(after.first, before.first);
  auto one = f.read(155, 1);
  cr_assert_eq(number(one.lines.at(0)), 155);
}

Test(agent_log, a_follower_goes_on_across_rotations_and_resumes_where_it_left) {
  Fixture f;
  f.append(300);
  f.settle();  // written and rotated before the follower comes
  std::vector<std::string> got;
  bool room = true;
  AgentLog::Follower* fw = f.log->follow(
      0, [&](const std::string& line) { got.push_back(line); return true; }, [&] { return room; },
      [] {});
  (void)fw;
  f.settle();
  cr_assert_gt(got.size(), 0u);
  int64_t first = number(got.front());
  cr_assert_gt(first, 0, "it starts at the first entry kept");
  expect_run(got, first);
  cr_assert_eq(number(got.back()), 299);

  // Live through many rotations: every entry, in order.
  f.append(500);
  f.settle();
  expect_run(got, first);
  cr_assert_eq(number(got.back()), 799);
  f.log->unfollow(fw);

  // A client that got k entries from offset o resumes at o + k.
  std::vector<std::string> resumed;
  int64_t resume_at = first + static_cast<int64_t>(got.size()) - 20;
  auto* again = f.log->follow(
      resume_at, [&](const std::string& line) { resumed.push_back(line); return true; }, [] { return true; },
      [] {});
  f.settle();
  f.append(5);
  f.settle();
  cr_assert_eq(resumed.size(), 25u);
  expect_run(resumed, resume_at);
  f.log->unfollow(again);
}

Test(agent_log, a_follower_catching_up_while_its_segments_go) {
  Fixture f;
  f.append(50);
  f.settle();
  std::vector<std::string> got;
  f.log->follow(
      0, [&](const std::string& line) { got.push_back(line); return true; }, [] { return true; }, [] {});
  // Its first read is in flight; this rotates the segments it reads away.
  f.append(600);
  f.settle();
  f.append(3);
  f.settle();
  cr_assert_gt(got.size(), 0u);
  for (size_t i = 1; i < got.size(); ++i)
    cr_assert_gt(number(got[i]), number(got[i - 1]), "in order, never twice");
  cr_assert_eq(number(got.back()), 652);
  auto kept = f.read(0, 500);
  // Everything still kept reached it, without a gap.
  int64_t from = kept.first;
  size_t at = 0;
  while (at < got.size() && number(got[at]) < from) ++at;
  expect_run(AgentLog::Lines(got.begin() + static_cast<long>(at), got.end()), from);
}

Test(agent_log, the_log_of_an_older_version_is_taken_over) {
  Fixture f;
  f.log.reset();
  std::string old_dir = f.root + "/logs/crews/c1/agents/a1";
  cr_assert_eq(make_dirs(old_dir, 0700), 0);
  std::string lines;
  for (int i = 0; i < 3; ++i) lines += R"({"ts":"t","stream":"stdout","content":"n=)" + std::to_string(i) + "\"}\n";
  FILE* out = fopen((old_dir + "/current.jsonl").c_str(), "w");
  cr_assert(out != nullptr);
  fputs(lines.c_str(), out);
  fclose(out);
  f.open();
  f.next = 3;
  f.append(2);
  auto page = f.read(0, 10);
  cr_assert_not(page.truncated);
  cr_assert_eq(page.lines.size(), 5u);
  expect_run(page.lines, 0);
  cr_assert_not(fs::exists(old_dir + "/current.jsonl"), "moved, not copied");
}

Test(agent_log, an_empty_log) {
  Fixture f;
  auto page = f.read(0, 10);
  cr_assert(page.lines.empty());
  cr_assert_not(page.truncated);
  std::vector<std::string> tail;
  bool done = false;
  f.log->tail(5, [&](AgentLog::Lines l) {
    tail = std::move(l);
    done = true;
  });
  while (!done) uv_run(&f.loop, UV_RUN_ONCE);
  cr_assert(tail.empty());
  f.append(8);
  done = false;
  f.log->tail(5, [&](AgentLog::Lines l) {
    tail = std::move(l);
    done = true;
  });
  while (!done) uv_run(&f.loop, UV_RUN_ONCE);
  cr_assert_eq(tail.size(), 5u);
  expect_run(tail, 3);
}

// Appends are written on the thread pool: a read still sees every entry
// appended before it, and entries not yet written when the log goes (the
// daemon stops) are written all the same.
Test(agent_log, reads_see_earlier_appends_and_none_is_lost_at_the_end) {
  Fixture f;
  f.append(30);
  auto page = f.read(0, 100);
  cr_assert_eq(page.lines.size(), 30u);
  expect_run(page.lines, 0);
  f.append(5);
  f.log.reset();  // with those 5 still queued or under way
  f.settle();
  f.open();
  page = f.read(0, 100);
  cr_assert_eq(page.lines.size(), 35u);
  expect_run(page.lines, 0);
}
