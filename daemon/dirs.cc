#include "daemon/dirs.h"

#include <cerrno>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace crewship {

int make_dirs(const std::string& path, mode_t mode) {
  std::string part;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    part = path.substr(0, i);
    if (part.empty()) continue;
    if (mkdir(part.c_str(), mode) == 0) {
      // The umask took bits off (or would have added none): say it exactly.
      if (chmod(part.c_str(), mode) != 0) return -errno;
    } else if (errno != EEXIST) {
      return -errno;
    }
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -errno;
  return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int ensure_file_mode(const std::string& path, mode_t mode) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return -errno;
  int r = fchmod(fd, mode) == 0 ? 0 : -errno;
  ::close(fd);
  return r;
}

int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

}  // namespace crewship
