#include "daemon/listeners.h"

#include "daemon/systemd.h"

#include <cerrno>
#include <cstring>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>  // SD_LISTEN_FDS_START
#include <unistd.h>

namespace crewship {

int take_activated_sockets(ActivatedSockets* out, std::string* error) {
  char** names = nullptr;
  int n = sd::listen_fds_with_names(&names);
  if (n < 0) {
    *error = std::string("socket activation: ") + std::strerror(-n);
    return n;
  }
  int r = n;
  for (int i = 0; i < n; ++i) {
    int fd = SD_LISTEN_FDS_START + i;
    std::string_view name = names != nullptr && names[i] != nullptr ? names[i] : "";
    bool is_unix = sd::is_listening_stream(fd, AF_UNIX);
    bool is_inet = sd::is_listening_stream(fd, AF_INET) || sd::is_listening_stream(fd, AF_INET6);
    if (name == "api" && is_inet) {
      out->api.push_back(fd);
    } else if (name == "ipc" && is_unix) {
      out->ipc.push_back(fd);
    } else if ((name.empty() || name == "unknown" || name == "stored") && (is_unix || is_inet)) {
      (is_unix ? out->ipc : out->api).push_back(fd);
    } else {
      *error = "socket activation: fd " + std::to_string(fd) + " named '" + std::string(name) +
               "' is not a listening socket of the expected kind";
      r = -EINVAL;
    }
  }
  if (names != nullptr) {
    for (int i = 0; i < n; ++i) free(names[i]);
    free(names);
  }
  return r;
}

int free_unix_path(const std::string& path, std::string* error) {
  struct sockaddr_un addr = {};
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    *error = "socket path '" + path + "' is empty or longer than " +
             std::to_string(sizeof addr.sun_path - 1) + " bytes";
    return -ENAMETOOLONG;
  }
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return 0;
    int e = errno;
    *error = "cannot stat " + path + ": " + std::strerror(e);
    return -e;
  }
  if (!S_ISSOCK(st.st_mode)) {
    *error = path + " exists and is not a socket";
    return -EEXIST;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  int r = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int e = errno;
  close(fd);
  if (r == 0) {
    *error = "another process is listening on " + path;
    return -EADDRINUSE;
  }
  if (e != ECONNREFUSED) {
    *error = "cannot probe " + path + ": " + std::strerror(e);
    return -e;
  }
  // Nobody listens: a stale socket left by a crash.
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    e = errno;
    *error = "cannot remove stale socket " + path + ": " + std::strerror(e);
    return -e;
  }
  return 0;
}

bool split_host_port(const std::string& addr, std::string* host, int* port) {
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == addr.size() || addr.size() - colon > 6) return false;
  std::string h = addr.substr(0, colon);
  if (h.front() == '[') {
    if (h.size() < 3 || h.back() != ']') return false;
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != std::string::npos) {
    return false;
  }
  int p = 0;
  for (size_t i = colon + 1; i < addr.size(); ++i) {
    if (addr[i] < '0' || addr[i] > '9') return false;
    p = p * 10 + (addr[i] - '0');
  }
  if (p > 65535) return false;
  *host = std::move(h);
  *port = p;
  return true;
}

}  // namespace crewship
