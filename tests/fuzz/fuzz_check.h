// What the fuzz targets share: the abort on a violated invariant, a clock in
// milliseconds and a private temporary directory for Unix sockets.
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include <uv.h>

namespace crewship::fuzz {

[[noreturn]] inline void fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "%s: invariant violated: %s\n", program_invocation_short_name, what);
  if (!detail.empty()) {
    std::fprintf(stderr, "--- context (%zu bytes) ---\n", detail.size());
    std::fwrite(detail.data(), 1, detail.size() > 4096 ? 4096 : detail.size(), stderr);
    std::fprintf(stderr, "\n---\n");
  }
  std::abort();
}

inline uint64_t now_ms() { return uv_hrtime() / 1'000'000; }

// A directory under $TMPDIR (else /tmp) holding one socket, both removed at
// exit. Returns the socket's path.
inline std::string temp_socket(const char* name) {
  static std::string dir, sock;
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/crewship-fuzz-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) fail("mkdtemp");
  dir = templ;
  sock = dir + "/" + name;
  std::atexit([] {
    unlink(sock.c_str());
    rmdir(dir.c_str());
  });
  return sock;
}

// A non-blocking client socket connected to the Unix socket at path.
inline int connect_unix(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket", std::strerror(errno));
  struct sockaddr_un sa = {};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) fail("connect", std::strerror(errno));
  return fd;
}

// Reads what is available into *out. Returns false at EOF (or reset).
inline bool read_available(int fd, std::string* out) {
  char buf[16384];
  while (true) {
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      out->append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    if (errno == ECONNRESET || errno == EPIPE) return false;
    fail("recv", std::strerror(errno));
  }
}

}  // namespace crewship::fuzz

#define FUZZ_CHECK(cond, detail)                         \
  do {                                                   \
    if (!(cond)) ::crewship::fuzz::fail(#cond, detail); \
  } while (0)
