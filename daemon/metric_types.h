// Counters and histograms for the metrics endpoint, with no lock and no
// allocation when counted. A Histogram over uint64_t is for one thread (the
// loop); over std::atomic<uint64_t> it may be counted from any thread, with
// relaxed order: a scrape sees each count whole, not all of them at one
// instant. Bounds are fixed upper bounds in the unit observe() takes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace crewship::metrics {

inline void add(uint64_t& c, uint64_t v) { c += v; }
inline void add(std::atomic<uint64_t>& c, uint64_t v) { c.fetch_add(v, std::memory_order_relaxed); }
inline uint64_t get(const uint64_t& c) { return c; }
inline uint64_t get(const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); }

template <class Counter, size_t N>
struct Histogram {
  const uint64_t (*bounds)[N];
  Counter buckets[N + 1] = {};  // per bucket, not cumulative; the last one is +Inf
  Counter sum = {};

  explicit Histogram(const uint64_t (&b)[N]) : bounds(&b) {}
  void observe(uint64_t v) {
    size_t i = 0;
    while (i < N && v > (*bounds)[i]) ++i;
    add(buckets[i], 1);
    add(sum, v);
  }
};

// Latency bounds in nanoseconds, as Prometheus clients default them (5 ms .. 10 s) with 1 ms in front.
inline constexpr uint64_t kLatencyNs[] = {1'000'000,   5'000'000,     10'000'000,    25'000'000,
                                          50'000'000,  100'000'000,   250'000'000,   500'000'000,
                                          1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
// Sizes (writes per group).
inline constexpr uint64_t kSizes[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

using LatencyHistogram = Histogram<uint64_t, std::size(kLatencyNs)>;
using AtomicLatencyHistogram = Histogram<std::atomic<uint64_t>, std::size(kLatencyNs)>;
using AtomicSizeHistogram = Histogram<std::atomic<uint64_t>, std::size(kSizes)>;

}  // namespace crewship::metrics
