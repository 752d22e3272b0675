#include "daemon/http_metrics.h"

#include <cstdio>

#include "daemon/metrics_text.h"

namespace crewship {
namespace {

constexpr size_t code_index(int status) {
  for (size_t i = 0; i < std::size(HttpMetrics::kCodes); ++i)
    if (HttpMetrics::kCodes[i] == status) return i;
  return std::size(HttpMetrics::kCodes);
}

}  // namespace

HttpMetrics::HttpMetrics(std::string listener, std::span<const Route> routes)
    : listener_(std::move(listener)), routes_(routes), requests_((routes.size() + 1) * kMethods * kCodeSlots) {}

void HttpMetrics::on_response(void* ctx, const http::Exchange& ex, int status, uint64_t elapsed_ns) {
  auto* m = static_cast<HttpMetrics*>(ctx);
  size_t route = m->routes_.size();
  if (ex.route != nullptr && ex.route >= m->routes_.data() && ex.route < m->routes_.data() + m->routes_.size())
    route = static_cast<size_t>(ex.route - m->routes_.data());
  auto method = static_cast<size_t>(ex.req.method);
  if (method >= kMethods) method = kMethods - 1;
  ++m->requests_[m->slot(route, method, code_index(status))];
  m->duration_.observe(elapsed_ns);
}

void HttpMetrics::write_requests(std::string* out) const {
  for (size_t r = 0; r <= routes_.size(); ++r) {
    std::string_view route = r < routes_.size() ? routes_[r].pattern : std::string_view("unmatched");
    for (size_t m = 0; m < kMethods; ++m) {
      for (size_t c = 0; c < kCodeSlots; ++c) {
        uint64_t n = requests_[slot(r, m, c)];
        if (n == 0) continue;
        char code[8];
        if (c < std::size(kCodes)) std::snprintf(code, sizeof code, "%d", kCodes[c]);
        else std::snprintf(code, sizeof code, "other");
        metrics::Labels labels{{"listener", listener_},
                               {"route", route},
                               {"method", http::method_name(static_cast<http::Method>(m))},
                               {"code", code}};
        metrics::write_sample(out, "crewshipd_http_requests_total", labels, static_cast<double>(n));
      }
    }
  }
}

void HttpMetrics::write_durations(std::string* out) const {
  metrics::write_histogram(out, "crewshipd_http_request_duration_seconds", {{"listener", listener_}}, duration_,
                           1e-9);
}

}  // namespace crewship
