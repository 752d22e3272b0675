// The commands crewshipd runs in crew containers to read them, and the
// parsers of their output. Output fields are NUL-separated, the one byte no
// file name and no commit subject can hold.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crewship::container {

// find <root> -mindepth 1 -maxdepth 3, one record per entry: relative path,
// size, type, mtime (seconds since the epoch, with a fraction).
std::vector<std::string> list_files_command(const std::string& root);

struct FileEntry {
  std::string path;  // relative to the listed root
  std::string name;
  int64_t size = 0;
  bool is_dir = false;
  std::string mod_time;  // RFC 3339, UTC
};
// Complete records only (a truncated tail is dropped); sorted by path.
std::vector<FileEntry> parse_file_list(std::string_view out);

// git log of up to limit commits, older than before (a commit hash) when set.
std::vector<std::string> git_log_command(int64_t limit, const std::string& before);

struct Commit {
  std::string hash, message, author, date;
};
std::vector<Commit> parse_git_log(std::string_view out);

// 4-64 hex digits.
bool valid_commit_hash(std::string_view s);

}  // namespace crewship::container
