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

}  // namespace crewship
