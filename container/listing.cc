#include "container/listing.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace crewship::container {
namespace {

// Splits out at NULs into groups of n fields; an incomplete group is dropped.
template <typename F>
void for_each_record(std::string_view out, size_t n, F&& f) {
  std::vector<std::string_view> fields;
  size_t at = 0;
  while (true) {
    size_t nul = out.find('\0', at);
    if (nul == std::string_view::npos) return;
    fields.push_back(out.substr(at, nul - at));
    at = nul + 1;
    if (fields.size() == n) {
      f(fields);
      fields.clear();
    }
  }
}

// find's %T@: seconds since the epoch, with a fraction. What RFC 3339 cannot
// write (before 0000 or after 9999), or what is not a number, is clamped.
std::string rfc3339_of_epoch(std::string_view text) {
  constexpr double kFirst = -62167219200.0;  // 0000-01-01T00:00:00Z
  constexpr double kLast = 253402300799.0;   // 9999-12-31T23:59:59Z
  double secs = std::strtod(std::string(text).c_str(), nullptr);
  if (std::isnan(secs)) secs = 0;
  time_t t = static_cast<time_t>(std::floor(std::clamp(secs, kFirst, kLast)));
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace

std::vector<std::string> list_files_command(const std::string& root) {
  return {"find", root, "-mindepth", "1", "-maxdepth", "3", "-printf", "%P\\0%s\\0%y\\0%T@\\0"};
}

std::vector<FileEntry> parse_file_list(std::string_view out) {
  std::vector<FileEntry> entries;
  for_each_record(out, 4, [&](const std::vector<std::string_view>& f) {
    if (f[0].empty()) return;
    FileEntry e;
    e.path = f[0];
    size_t slash = e.path.rfind('/');
    e.name = slash == std::string::npos ? e.path : e.path.substr(slash + 1);
    std::from_chars(f[1].data(), f[1].data() + f[1].size(), e.size);
    e.is_dir = f[2] == "d";
    e.mod_time = rfc3339_of_epoch(f[3]);
    entries.push_back(std::move(e));
  });
  std::sort(entries.begin(), entries.end(),
            [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
  return entries;
}

std::vector<std::string> git_log_command(int64_t limit, const std::string& before) {
  // safe.directory: the log only reads, so a repository of another uid (made
  // by root in the container) is as good as the agent's own.
  std::vector<std::string> cmd = {"git", "-c", "safe.directory=*", "-c", "core.quotepath=off", "log", "-z",
                                  "-n", std::to_string(limit), "--format=%H%x00%an <%ae>%x00%aI%x00%s"};
  if (!before.empty()) {
    cmd.push_back("--skip=1");
    cmd.push_back(before);
  }
  cmd.push_back("--");
  return cmd;
}

std::vector<Commit> parse_git_log(std::string_view out) {
  // -z ends each record with a NUL, except the last: give it one.
  std::string text(out);
  if (!text.empty() && text.back() != '\0') text.push_back('\0');
  std::vector<Commit> commits;
  for_each_record(text, 4, [&](const std::vector<std::string_view>& f) {
    commits.push_back({std::string(f[0]), std::string(f[3]), std::string(f[1]), std::string(f[2])});
  });
  return commits;
}

bool valid_commit_hash(std::string_view s) {
  return s.size() >= 4 && s.size() <= 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace crewship::container
