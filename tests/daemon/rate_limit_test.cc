#include "daemon/rate_limit.h"

#include <criterion/criterion.h>

#include <string>

using crewship::RateLimiter;

Test(rate_limit, burst_then_rate) {
  RateLimiter r;
  r.configure(10, 3, 100);
  for (int i = 0; i < 3; ++i) cr_assert_eq(r.take("a", 1000), 0);
  int64_t wait = r.take("a", 1000);
  cr_assert(wait > 0 && wait <= 100, "wait %lld", static_cast<long long>(wait));
  cr_assert_eq(r.take("b", 1000), 0, "another key has its own bucket");
  cr_assert_eq(r.take("a", 1100), 0, "one token back after 100 ms at 10/s");
  cr_assert_gt(r.take("a", 1100), 0);
  cr_assert_eq(RateLimiter::retry_after(100), 1);
  cr_assert_eq(RateLimiter::retry_after(2500), 3);
}

Test(rate_limit, map_stays_bounded) {
  RateLimiter r;
  r.configure(1, 2, 50);
  for (int i = 0; i < 10000; ++i) r.take("k" + std::to_string(i), 1000 + i / 100);
  cr_assert_leq(r.keys(), 50u);
  // A refilled bucket is dropped before a busy one is.
  RateLimiter q;
  q.configure(1, 2, 2);
  q.take("busy", 0), q.take("busy", 0);
  q.take("idle", 0);
  q.take("new", 5000);  // idle refilled by now; busy too, both may go
  cr_assert_leq(q.keys(), 2u);
}

Test(rate_limit, off) {
  RateLimiter r;
  r.configure(0, 1, 10);
  for (int i = 0; i < 100; ++i) cr_assert_eq(r.take("a", 0), 0);
  cr_assert_eq(r.keys(), 0u);
}

Test(rate_limit, address_keys) {
  cr_assert_eq(RateLimiter::address_key("192.0.2.7"), "192.0.2.7");
  cr_assert_eq(RateLimiter::address_key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  cr_assert_eq(RateLimiter::address_key("2001:db8:1:2::ff"), RateLimiter::address_key("2001:db8:1:2:aaaa::1"));
  cr_assert_neq(RateLimiter::address_key("2001:db8:1:2::1"), RateLimiter::address_key("2001:db8:1:3::1"));
  cr_assert_eq(RateLimiter::address_key(""), "");
}
