#include "daemon/systemd.h"

#include <cerrno>
#include <cstdlib>

#include <dlfcn.h>
#include <sys/socket.h>

#include "daemon/log.h"

namespace crewship::sd {
namespace {

struct Lib {
  int (*notify)(int, const char*);
  int (*listen_fds_with_names)(int, char***);
  int (*is_socket)(int, int, int, int);
  int (*watchdog_enabled)(int, uint64_t*);
};

// Loaded once, on the loop thread; nullptr when libsystemd is missing.
const Lib* lib() {
  static bool tried = false;
  static Lib l;
  static const Lib* loaded = nullptr;
  if (tried) return loaded;
  tried = true;
  void* h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    LOG_WARN("systemd integration unavailable: %s", dlerror());
    return nullptr;
  }
  l.notify = reinterpret_cast<int (*)(int, const char*)>(dlsym(h, "sd_notify"));
  l.listen_fds_with_names = reinterpret_cast<int (*)(int, char***)>(dlsym(h, "sd_listen_fds_with_names"));
  l.is_socket = reinterpret_cast<int (*)(int, int, int, int)>(dlsym(h, "sd_is_socket"));
  l.watchdog_enabled = reinterpret_cast<int (*)(int, uint64_t*)>(dlsym(h, "sd_watchdog_enabled"));
  if (!l.notify || !l.listen_fds_with_names || !l.is_socket || !l.watchdog_enabled) {
    LOG_WARN("systemd integration unavailable: libsystemd lacks sd-daemon symbols");
    return nullptr;
  }
  loaded = &l;
  return loaded;
}

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0';
}

}  // namespace

void notify(const char* state) {
  if (!env_set("NOTIFY_SOCKET")) return;
  if (const Lib* l = lib()) l->notify(0, state);
}

int listen_fds_with_names(char*** names) {
  *names = nullptr;
  if (!env_set("LISTEN_FDS")) return 0;
  const Lib* l = lib();
  return l != nullptr ? l->listen_fds_with_names(1, names) : -ENOSYS;
}

bool is_listening_stream(int fd, int family) {
  const Lib* l = lib();
  return l != nullptr && l->is_socket(fd, family, SOCK_STREAM, 1) > 0;
}

bool watchdog_enabled(uint64_t* usec) {
  if (!env_set("WATCHDOG_USEC")) return false;
  const Lib* l = lib();
  return l != nullptr && l->watchdog_enabled(0, usec) > 0;
}

}  // namespace crewship::sd
