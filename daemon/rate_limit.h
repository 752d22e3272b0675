// Token buckets by key (a client address, a token, an agent): each key may
// take `rate` per second on average and `burst` at once. The map of keys is
// bounded: a key whose bucket has refilled is the same as no key, so those
// are dropped first, and beyond the bound an arbitrary key is forgotten
// (it starts again with a full bucket) rather than the map growing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace crewship {

class RateLimiter {
 public:
  // rate: tokens per second (0: no limit); burst: the bucket's size (at
  // least 1); max_keys: most keys remembered.
  void configure(double rate, double burst, size_t max_keys);

  // Takes one token of key at now_ms (a monotonic clock). Returns 0 when
  // one was there, else the milliseconds until one will be.
  int64_t take(std::string_view key, int64_t now_ms);

  // Seconds to tell a refused client in Retry-After (at least 1).
  static int retry_after(int64_t wait_ms) { return wait_ms <= 1000 ? 1 : static_cast<int>((wait_ms + 999) / 1000); }

  // The key of a client address: an IPv4 address as it is, an IPv6 one by
  // its /64 (what one host is usually given, so a host cannot step around
  // its bucket by changing the low bits).
  static std::string address_key(std::string_view address);

  size_t keys() const { return buckets_.size(); }
  bool enabled() const { return rate_ > 0; }

 private:
  struct Bucket {
    double tokens;
    int64_t at_ms;
  };
  void make_room(int64_t now_ms);

  double rate_ = 0, burst_ = 1;
  size_t max_keys_ = 10000;
  int64_t pruned_at_ms_ = INT64_MIN;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace crewship
