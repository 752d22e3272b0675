// Where the two listeners come from: systemd socket activation (fds named
// "api" and "ipc"; unnamed fds are told apart by address family), or sockets
// crewshipd binds itself.
#pragma once

#include <string>
#include <vector>

namespace crewship {

struct ActivatedSockets {
  std::vector<int> api;  // TCP listeners
  std::vector<int> ipc;  // Unix listeners
};

// Reads LISTEN_FDS/LISTEN_FDNAMES (and unsets them). Returns the number of
// fds taken, or a negative errno with *error set.
int take_activated_sockets(ActivatedSockets* out, std::string* error);

// Makes path free for bind(): fails when a live process answers on it or
// when something other than a socket is there; removes a stale socket file.
int free_unix_path(const std::string& path, std::string* error);

// Splits "host:port" ("[::1]:9464" for IPv6); false when it is not one.
bool split_host_port(const std::string& addr, std::string* host, int* port);

}  // namespace crewship
