// Directories and files whose modes do not depend on the process's umask,
// and the blocking file IO helpers that work on the thread pool shares.
#pragma once

#include <string>
#include <string_view>

#include <sys/types.h>

namespace crewship {

// mkdir -p: each directory it creates gets exactly mode; existing ones are
// left as they are. Returns 0 or a negative errno (-ENOTDIR when path is
// something else).
int make_dirs(const std::string& path, mode_t mode);

// Creates path as an empty file of mode when it is missing, and sets mode on
// it when it exists. Returns 0 or a negative errno.
int ensure_file_mode(const std::string& path, mode_t mode);

// Writes all of data to fd (retrying short writes and EINTR). Returns 0 or a
// negative errno.
int write_all(int fd, std::string_view data);


// Replacing a small file atomically, for work off the loop: the new content
// is written beside the target and synced (stage_file), renamed over it
// (place_file) and the directory synced (sync_dir), so that after a crash
// the target holds the old content or the new one, never a part.

// Makes dir (mode 0700, with what is missing), writes data to a new file in
// it named ".<name>.tmp-<random hex>" with mode, and fsyncs that file. *tmp
// gets its path. Returns 0 or a negative errno; on failure nothing is left.
int stage_file(const std::string& dir, std::string_view name, std::string_view data, mode_t mode,
               std::string* tmp);
// Removes what stage_file left anywhere under root (files named
// ".<name>.tmp-<hex>") when the process died between staging and placing
// them; before anything else writes there. Returns how many it removed, or a
// negative errno (none when root does not exist).
int remove_staged_files(const std::string& root);
// Renames tmp (from stage_file) to dir/name. Returns 0 or a negative errno.
// The rename is durable once sync_dir(dir) returned.
int place_file(const std::string& tmp, const std::string& dir, std::string_view name);
// Removes dir/name: 1 when it was removed, 0 when there was none, or a
// negative errno. Durable once sync_dir(dir) returned.
int remove_file(const std::string& dir, std::string_view name);
// fsyncs the directory dir. Returns 0 or a negative errno.
int sync_dir(const std::string& dir);
// Reads the regular file open as fd whole into *out: -EISDIR when it is no
// regular file, -EFBIG when it holds more than max bytes, or another
// negative errno.
int read_whole(int fd, size_t max, std::string* out);
// Reads the regular file path whole into *out. -ENOENT when it is missing; else
// as read_whole.
int read_small_file(const std::string& path, size_t max, std::string* out);

}  // namespace crewship
