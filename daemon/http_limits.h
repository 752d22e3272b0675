// The limits and timeouts of one HTTP listener; the settings table
// (daemon/config.h) fills them from CREWSHIP_* variables and flags.
#pragma once

#include <cstdint>

namespace crewship {

struct HttpLimits {
  int64_t max_body_bytes = 1 << 20;
  int64_t max_header_bytes = 64 << 10;
  int64_t max_headers = 100;
  int64_t max_url_bytes = 8 << 10;
  int64_t header_timeout_ms = 10'000;
  int64_t body_timeout_ms = 30'000;
  int64_t idle_timeout_ms = 60'000;
  int64_t send_timeout_ms = 30'000;
  int64_t max_connections = 1024;
  // Reading stops while a connection's unsent answers exceed this and goes on
  // below half of it, so a client that pipelines without reading waits.
  int64_t max_unsent_bytes = 1 << 20;
  // A body must arrive at this average rate (bytes/s) after a first
  // body_timeout_ms: the whole body's deadline, not only each pause's.
  int64_t body_min_rate = 16 << 10;
  // Open connections of one peer: a TCP address, or on a Unix socket the
  // peer process (SO_PEERCRED uid and pid). Those beyond are closed at once.
  int64_t max_connections_per_peer = 256;
  // Connections whose requests have not yet passed the guard, in their own
  // pool (0: none): when it is full the oldest of them is closed to make room,
  // so they never hold the places of authenticated ones. At most half of
  // max_connections.
  int64_t max_unauthenticated = 0;
};

}  // namespace crewship
