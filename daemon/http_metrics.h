// What one listener counts for the metrics endpoint: responses by route,
// method and status, and their latency. The counts sit in arrays sized when
// the listener starts, indexed by the route's place in its table, so counting
// a response takes no lock and allocates nothing. Loop thread only.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "daemon/http_server.h"
#include "daemon/metric_types.h"

namespace crewship {

class HttpMetrics {
 public:
  // The status codes counted one by one; any other counts as "other".
  static constexpr int kCodes[] = {101, 200, 201, 202, 204, 206, 301, 302, 304, 307, 308, 400, 401,
                                   403, 404, 405, 406, 408, 409, 410, 411, 412, 413, 414, 415, 416,
                                   417, 422, 426, 429, 431, 500, 501, 502, 503, 504, 505};
  static constexpr size_t kCodeSlots = std::size(kCodes) + 1;
  static constexpr size_t kMethods = static_cast<size_t>(http::Method::kOther) + 1;

  HttpMetrics(std::string listener, std::span<const Route> routes);
  const std::string& listener() const { return listener_; }

  // The server's observer: counts into this.
  ResponseObserver observer() { return {on_response, this}; }

  // Appends crewshipd_http_requests_total samples (no HELP/TYPE lines).
  void write_requests(std::string* out) const;
  // Appends the crewshipd_http_request_duration_seconds samples.
  void write_durations(std::string* out) const;

 private:
  static void on_response(void* ctx, const http::Exchange& ex, int status, uint64_t elapsed_ns);
  size_t slot(size_t route, size_t method, size_t code) const {
    return (route * kMethods + method) * kCodeSlots + code;
  }

  std::string listener_;
  std::span<const Route> routes_;  // index routes_.size(): no route matched
  std::vector<uint64_t> requests_;
  metrics::LatencyHistogram duration_{metrics::kLatencyNs};
};

}  // namespace crewship
