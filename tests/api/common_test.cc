#include <criterion/criterion.h>

#include "api/common.h"

using namespace crewship;

TestSuite(api_common);

Test(api_common, slugs) {
  for (std::string ok : {"ab", "backend-dev", "a_b", "0x", "a1-"})
    cr_assert(api::valid_slug(ok), "refused '%s'", ok.c_str());
  cr_assert(api::valid_slug(std::string(50, 'a')));
  for (std::string bad : {"", "a", "-ab", "_ab", "Ab", "a b", "a.b", "ä-b"})
    cr_assert_not(api::valid_slug(bad), "accepted '%s'", bad.c_str());
  cr_assert_not(api::valid_slug(std::string(51, 'a')));
  cr_assert_eq(api::slugify("Backend Dev!"), "backend-dev");
  cr_assert_eq(api::slugify("  Ünïcode  Crew "), "n-code-crew");
  cr_assert(api::valid_slug(api::slugify("!")));
  cr_assert(api::valid_slug(api::slugify(std::string(300, 'x'))));
}
