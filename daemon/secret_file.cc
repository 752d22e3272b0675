#include "daemon/secret_file.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include "daemon/ids.h"

namespace crewship {
namespace {

int read_secret(const std::string& path, std::string* out, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -errno;
  char buf[300];
  ssize_t n = ::read(fd, buf, sizeof buf);
  int e = errno;
  ::close(fd);
  if (n < 0) return -e;
  std::string_view text(buf, static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  int r = 0;
  if (plausible_secret(text)) {
    out->assign(text);
  } else {
    *error = path + " does not hold a secret";
    r = -EINVAL;
  }
  sodium_memzero(buf, sizeof buf);
  return r;
}

int write_secret(const std::string& path, const std::string& secret) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return -errno;
  std::string line = secret + "\n";
  ssize_t n = ::write(fd, line.data(), line.size());
  int r = n == static_cast<ssize_t>(line.size()) ? 0 : -EIO;
  if (r == 0 && ::fsync(fd) != 0) r = -errno;
  ::close(fd);
  sodium_memzero(line.data(), line.size());
  if (r != 0) ::unlink(path.c_str());
  return r;
}

}  // namespace

bool plausible_secret(std::string_view s) {
  if (s.size() < 32 || s.size() > 256) return false;
  for (char c : s)
    if (c <= ' ' || c > '~') return false;
  return true;
}

int load_or_create_secret(const std::string& path, std::string* secret, bool* created,
                          std::string* error) {
  *created = false;
  int r = read_secret(path, secret, error);
  if (r == 0 || r != -ENOENT) {
    if (r != 0 && error->empty()) *error = "cannot read " + path + ": " + std::strerror(-r);
    return r;
  }
  *secret = random_hex(32);
  if ((r = write_secret(path, *secret)) == -EEXIST) {
    // Another process created it between our read and write: use theirs.
    return read_secret(path, secret, error);
  }
  if (r != 0) {
    *error = "cannot write " + path + ": " + std::strerror(-r);
    return r;
  }
  *created = true;
  return 0;
}

}  // namespace crewship
