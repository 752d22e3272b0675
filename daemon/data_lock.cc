#include "daemon/data_lock.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace crewship {

int lock_data_dir(const std::string& dir, std::string* error) {
  std::string path = dir + "/crewshipd.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return -1;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err == EWOULDBLOCK) {
      // The holder wrote its pid after taking the lock; it may be mid-write.
      char buf[32] = {};
      ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      long pid = n > 0 ? std::strtol(buf, nullptr, 10) : 0;
      *error = "another crewshipd uses " + dir;
      if (pid > 0) *error += " (pid " + std::to_string(pid) + ")";
    } else {
      *error = "cannot lock " + path + ": " + std::strerror(err);
    }
    ::close(fd);
    return -1;
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  errno = 0;
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    *error = "cannot write " + path + ": " + (errno != 0 ? std::strerror(errno) : "short write");
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace crewship
