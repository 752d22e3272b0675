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
};

}  // namespace crewship
