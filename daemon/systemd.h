// The libsystemd calls crewshipd makes (sd-daemon.h). libsystemd is opened on
// first use, and only when systemd handed the process something to act on
// (NOTIFY_SOCKET, LISTEN_FDS, WATCHDOG_USEC): outside systemd the daemon does
// not carry it, nor the compression and crypto libraries it pulls in (about
// 1 MiB of resident memory).
#pragma once

#include <cstdint>

namespace crewship::sd {

// sd_notify(0, state); a no-op without NOTIFY_SOCKET.
void notify(const char* state);
// sd_listen_fds_with_names(1, names): 0 without LISTEN_FDS; negative errno
// when LISTEN_FDS is set but libsystemd cannot be loaded.
int listen_fds_with_names(char*** names);
// sd_is_socket(fd, family, SOCK_STREAM, listening=1) > 0
bool is_listening_stream(int fd, int family);
// sd_watchdog_enabled(0, usec) > 0
bool watchdog_enabled(uint64_t* usec);

}  // namespace crewship::sd
