// The Prometheus text exposition format 0.0.4, written into a string.
#pragma once

#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "daemon/metric_types.h"

namespace crewship::metrics {

using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// "# HELP name help" and "# TYPE name type".
void write_family(std::string* out, std::string_view name, std::string_view type, std::string_view help);
// name{labels} value, with label values escaped; extra is one more label
// (the "le" of a bucket) when its name is not empty.
void write_sample(std::string* out, std::string_view name, Labels labels, double value,
                  std::pair<std::string_view, std::string_view> extra = {});

// The _bucket (cumulative), _sum and _count samples of h, each bound and the
// sum multiplied by scale (1e-9: nanoseconds as seconds).
template <class Counter, size_t N>
void write_histogram(std::string* out, std::string_view name, Labels labels, const Histogram<Counter, N>& h,
                     double scale) {
  std::string bucket(name), sum(name), count(name);
  bucket += "_bucket";
  sum += "_sum";
  count += "_count";
  uint64_t total = 0;
  char le[32];
  for (size_t i = 0; i <= N; ++i) {
    total += get(h.buckets[i]);
    if (i < N) std::snprintf(le, sizeof le, "%.9g", static_cast<double>((*h.bounds)[i]) * scale);
    else std::snprintf(le, sizeof le, "+Inf");
    write_sample(out, bucket, labels, static_cast<double>(total), {"le", le});
  }
  write_sample(out, sum, labels, static_cast<double>(get(h.sum)) * scale);
  write_sample(out, count, labels, static_cast<double>(total));
}

}  // namespace crewship::metrics
