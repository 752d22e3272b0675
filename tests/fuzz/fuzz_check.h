// What the fuzz targets share: the abort on a violated invariant, a clock in
// milliseconds and a private temporary directory for Unix sockets.
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
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

}  // namespace crewship::fuzz

#define FUZZ_CHECK(cond, detail)                         \
  do {                                                   \
    if (!(cond)) ::crewship::fuzz::fail(#cond, detail); \
  } while (0)
