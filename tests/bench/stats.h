// Latency figures of a benchmark's samples, in the unit they were taken in.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace crewship::bench {

struct Stats {
  double p50, p90, p99, mean;
};

inline Stats stats_of(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  double sum = 0;
  for (double s : samples) sum += s;
  auto at = [&samples](double q) {
    return samples[std::min(samples.size() - 1, static_cast<size_t>(q * samples.size()))];
  };
  return {at(0.50), at(0.90), at(0.99), sum / samples.size()};
}

}  // namespace crewship::bench
