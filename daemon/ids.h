// Identifiers and timestamps shared by every resource.
#pragma once

#include <ctime>
#include <cstdint>
#include <string>

namespace crewship {

// A CUID-style id: 'c' and 24 base-36 characters from libsodium randomness.
std::string new_id();
// Random bytes as lowercase hex.
std::string random_hex(size_t bytes);

// RFC 3339 UTC with seconds: 2026-04-17T10:23:41Z
std::string rfc3339(time_t t);
std::string now_rfc3339();
// RFC 3339 UTC with 9 fractional digits, which sorts as text in time order.
std::string rfc3339_nanos(const struct timespec& ts);
std::string now_rfc3339_nanos();
// Wall-clock time in unix milliseconds.
int64_t now_ms();

}  // namespace crewship
