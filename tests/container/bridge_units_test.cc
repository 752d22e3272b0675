// The pure parts of the container bridge: the multiplexed stream decoder and
// the parsers of find and git log output.
#include <string>
#include <utility>
#include <vector>

#include <criterion/criterion.h>

#include "container/listing.h"
#include "container/mux.h"

using namespace crewship::container;

namespace {

std::string frame(int stream, const std::string& payload) {
  std::string h(8, '\0');
  h[0] = static_cast<char>(stream);
  uint32_t n = static_cast<uint32_t>(payload.size());
  h[4] = static_cast<char>(n >> 24), h[5] = static_cast<char>(n >> 16);
  h[6] = static_cast<char>(n >> 8), h[7] = static_cast<char>(n);
  return h + payload;
}

}  // namespace

Test(demux, frames_in_any_split) {
  std::string wire = frame(1, "hello ") + frame(2, "oops") + frame(1, std::string(70000, 'x')) + frame(1, "");
  for (size_t step : {1u, 3u, 7u, 8u, 9u, 4096u, 100000u}) {
    Demux d;
    std::string out, err;
    for (size_t at = 0; at < wire.size(); at += step) {
      bool ok = d.feed(std::string_view(wire).substr(at, step), [&](int s, std::string_view p) {
        (s == 1 ? out : err).append(p);
      });
      cr_assert(ok, "step %zu", step);
    }
    cr_assert(d.at_boundary());
    cr_assert_eq(out.size(), 6u + 70000u, "step %zu", step);
    cr_assert(out.starts_with("hello x"));
    cr_assert_str_eq(err.c_str(), "oops");
  }
}

Test(demux, rejects_what_is_not_a_frame_header) {
  Demux d;
  cr_assert_not(d.feed("HTTP/1.1 200 OK\r\n", [](int, std::string_view) {}));
  Demux half;
  cr_assert(half.feed(std::string("\x01\x00\x00", 3), [](int, std::string_view) {}));
  cr_assert_not(half.at_boundary());
}

Test(listing, file_records_survive_any_name) {
  std::string out;
  auto rec = [&out](const std::string& path, const char* size, const char* type, const char* mtime) {
    out += path + '\0' + size + '\0' + type + '\0' + mtime + '\0';
  };
  rec("b/new\nline", "3", "f", "1700000000.5");
  rec("a b|c", "0", "f", "0.0");
  rec("dir", "4096", "d", "1700000000.0");
  out += "partial";  // a capped output's cut-off tail
  auto entries = parse_file_list(out);
  cr_assert_eq(entries.size(), 3u);
  cr_assert_str_eq(entries[0].path.c_str(), "a b|c");
  cr_assert_str_eq(entries[1].path.c_str(), "b/new\nline");
  cr_assert_str_eq(entries[1].name.c_str(), "new\nline");
  cr_assert_eq(entries[1].size, 3);
  cr_assert_str_eq(entries[1].mod_time.c_str(), "2023-11-14T22:13:20Z");
  cr_assert(entries[2].is_dir);
}

// Any file time a container holds (touch -d, tmpfs takes 64-bit seconds)
// comes out as RFC 3339 with four-digit years.
Test(listing, file_times_out_of_range) {
  const std::pair<const char*, const char*> cases[] = {
      {"1e300", "9999-12-31T23:59:59Z"},
      {"-1e300", "0000-01-01T00:00:00Z"},
      {"9223372036854775807.0000000000", "9999-12-31T23:59:59Z"},
      {"99999999999.5", "5138-11-16T09:46:39Z"},
      {"-62167219201", "0000-01-01T00:00:00Z"},
      {"nan", "1970-01-01T00:00:00Z"},
      {"inf", "9999-12-31T23:59:59Z"},
      {"-0.5", "1969-12-31T23:59:59Z"},
      {"x", "1970-01-01T00:00:00Z"},
  };
  for (const auto& [time, want] : cases) {
    std::string out = std::string("f") + '\0' + "1" + '\0' + "f" + '\0' + time + '\0';
    auto entries = parse_file_list(out);
    cr_assert_eq(entries.size(), 1u);
    cr_assert(entries[0].mod_time == want, "%s: %s", time, entries[0].mod_time.c_str());
  }
}

Test(listing, git_log_records) {
  std::string out = std::string("aaaa") + '\0' + "Ann <a@b>" + '\0' + "2024-01-01T00:00:00+00:00" + '\0' +
                    "fix: a | b" + '\0' + "bbbb" + '\0' + "Bob <b@c>" + '\0' + "2024-01-02T00:00:00+00:00" + '\0' +
                    "second";
  auto commits = parse_git_log(out);
  cr_assert_eq(commits.size(), 2u);
  cr_assert_str_eq(commits[0].message.c_str(), "fix: a | b");
  cr_assert_str_eq(commits[1].hash.c_str(), "bbbb");
  cr_assert_str_eq(commits[1].message.c_str(), "second");
  cr_assert_eq(parse_git_log("").size(), 0u);
}

Test(listing, commit_hashes) {
  cr_assert(valid_commit_hash("abcd"));
  cr_assert(valid_commit_hash(std::string(40, 'f')));
  cr_assert_not(valid_commit_hash("abc"));
  cr_assert_not(valid_commit_hash("HEAD~1"));
  cr_assert_not(valid_commit_hash("--all"));
}
