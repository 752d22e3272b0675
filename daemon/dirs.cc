#include "daemon/dirs.h"

#include <cerrno>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/ids.h"

namespace crewship {
namespace {

// stage_file names its files ".<name>" + kStagedMark + <hex>.
constexpr std::string_view kStagedMark = ".tmp-";

}  // namespace

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

int stage_file(const std::string& dir, std::string_view name, std::string_view data, mode_t mode,
               std::string* tmp) {
  if (int r = make_dirs(dir, 0700); r != 0) return r;
  *tmp = dir + "/." + std::string(name) + std::string(kStagedMark) + random_hex(8);
  int fd = ::open(tmp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return -errno;
  int r = write_all(fd, data);
  if (r == 0 && fsync(fd) != 0) r = -errno;
  ::close(fd);
  if (r != 0) unlink(tmp->c_str());
  return r;
}

int remove_staged_files(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  int removed = 0;
  // Links are neither followed nor removed: only regular files, as
  // stage_file makes them.
  fs::recursive_directory_iterator it(root, ec), end;
  if (ec) return ec == std::errc::no_such_file_or_directory ? 0 : -ec.value();
  for (; it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!name.starts_with('.') || name.find(kStagedMark) == std::string::npos) continue;
    std::error_code kind;
    if (!fs::is_regular_file(it->symlink_status(kind))) continue;
    std::error_code rm;
    if (!fs::remove(it->path(), rm)) return rm ? -rm.value() : -ENOENT;
    ++removed;
  }
  // A failed step ends the walk at end: that is an error, not the end.
  if (ec) return -ec.value();
  return removed;
}

int place_file(const std::string& tmp, const std::string& dir, std::string_view name) {
  std::string target = dir + "/" + std::string(name);
  return rename(tmp.c_str(), target.c_str()) == 0 ? 0 : -errno;
}

int remove_file(const std::string& dir, std::string_view name) {
  std::string target = dir + "/" + std::string(name);
  if (unlink(target.c_str()) == 0) return 1;
  return errno == ENOENT ? 0 : -errno;
}

int sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -errno;
  int r = fsync(fd) == 0 ? 0 : -errno;
  ::close(fd);
  return r;
}

int read_whole(int fd, size_t max, std::string* out) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -errno;
  if (!S_ISREG(st.st_mode)) return -EISDIR;
  if (static_cast<uint64_t>(st.st_size) > max) return -EFBIG;
  out->resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out->size()) {
    ssize_t n = pread(fd, out->data() + got, out->size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) break;  // shrunk meanwhile
    got += static_cast<size_t>(n);
  }
  out->resize(got);
  return 0;
}

int read_small_file(const std::string& path, size_t max, std::string* out) {
  // O_NONBLOCK: opening a FIFO planted there must not stall a pool thread.
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -errno;
  int r = read_whole(fd, max, out);
  ::close(fd);
  return r;
}

}  // namespace crewship
