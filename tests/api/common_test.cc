#include <criterion/criterion.h>

#include "api/common.h"
#include "api/memory_files.h"

using namespace crewship;

TestSuite(api_common);
TestSuite(memory_files);

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

// Ids from a request path go into memory file paths only when they cannot
// climb out of their directory or name another one.
Test(memory_files, only_plain_ids_name_files) {
  for (const char* ok : {"clo8nzczlbvf1g28w9tsrfrla", "user_1", "A-b"}) cr_assert(api::memory_id_ok(ok), "%s", ok);
  for (const char* bad : {"", ".", "..", "../x", "a/b", "a\\b", "x.md", "a b", "%2e%2e"})
    cr_assert_not(api::memory_id_ok(bad), "%s", bad);
  cr_assert_not(api::memory_id_ok(std::string(65, 'a')));
  cr_assert(api::memory_id_ok(std::string(64, 'a')));
  cr_assert_eq(api::peer_card_path("a1", "u1"), std::string("memory/agents/a1/peers/u1.md"));
}
