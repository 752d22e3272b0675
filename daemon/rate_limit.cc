#include "daemon/rate_limit.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <arpa/inet.h>

namespace crewship {

void RateLimiter::configure(double rate, double burst, size_t max_keys) {
  rate_ = rate;
  burst_ = std::max(burst, 1.0);
  max_keys_ = std::max<size_t>(max_keys, 1);
  buckets_.clear();
}

void RateLimiter::make_room(int64_t now_ms) {
  // A full sweep at most once a second keeps a flood of new keys from
  // costing a sweep each.
  if (now_ms - pruned_at_ms_ >= 1000) {
    pruned_at_ms_ = now_ms;
    std::erase_if(buckets_, [&](const auto& kv) {
      return kv.second.tokens + static_cast<double>(now_ms - kv.second.at_ms) * rate_ / 1000.0 >= burst_;
    });
  }
  if (buckets_.size() >= max_keys_) buckets_.erase(buckets_.begin());
}

int64_t RateLimiter::take(std::string_view key, int64_t now_ms) {
  if (rate_ <= 0) return 0;
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) make_room(now_ms);
    buckets_.emplace(std::string(key), Bucket{burst_ - 1, now_ms});
    return 0;
  }
  Bucket& b = it->second;
  b.tokens = std::min(burst_, b.tokens + static_cast<double>(std::max<int64_t>(now_ms - b.at_ms, 0)) * rate_ / 1000.0);
  b.at_ms = now_ms;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return static_cast<int64_t>(std::ceil((1 - b.tokens) * 1000.0 / rate_));
}

std::string RateLimiter::address_key(std::string_view address) {
  char text[INET6_ADDRSTRLEN] = {};
  unsigned char ip[16];
  if (address.find(':') == std::string_view::npos || address.size() >= sizeof text) return std::string(address);
  std::memcpy(text, address.data(), address.size());
  if (inet_pton(AF_INET6, text, ip) != 1) return std::string(address);
  std::memset(ip + 8, 0, 8);
  if (inet_ntop(AF_INET6, ip, text, sizeof text) == nullptr) return std::string(address);
  return std::string(text) + "/64";
}

}  // namespace crewship
