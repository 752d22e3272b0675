#include "daemon/result.h"

#include <memory>
#include <string>

#include <criterion/criterion.h>

using crewship::fail;
using crewship::Problem;
using crewship::Result;
using crewship::Status;

Test(result, value_and_problem) {
  Result<std::string> r = std::string("x");
  cr_assert(r.ok());
  cr_assert_str_eq(r->c_str(), "x");
  Result<std::string> p = fail(404, "agent not found");
  cr_assert(!p.ok());
  cr_assert_eq(p.problem().status, 404);
  cr_assert_str_eq(p.problem().detail.c_str(), "agent not found");
}

Test(result, move_only_values_and_void) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  std::unique_ptr<int> v = std::move(r).value();
  cr_assert_eq(*v, 7);
  Status ok;
  cr_assert(ok.ok());
  Status bad = fail(503, "busy", 1);
  cr_assert(!bad);
  cr_assert_eq(bad.problem().retry_after_s, 1);
  Problem taken = std::move(bad).take_problem();
  cr_assert_str_eq(taken.detail.c_str(), "busy");
}
