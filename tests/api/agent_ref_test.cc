#include <string>

#include <criterion/criterion.h>

#include "api/agent_ref.h"

using crewship::api::normalise_relative_path;

TestSuite(agent_ref);

Test(agent_ref, relative_paths_normalised) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""},
      {".", ""},
      {"./", ""},
      {"a", "a"},
      {"a/b/c.txt", "a/b/c.txt"},
      {"a//b/", "a/b"},
      {"./a/./b", "a/b"},
      {"a b/x|y\nz", "a b/x|y\nz"},  // odd but legal names stay as they are
      {"..a/b..", "..a/b.."},        // dots inside a name are no traversal
      {"...", "..."},
      {"100%/x", "100%/x"},
      {"a\\b", "a\\b"},
      {std::string(255, 'n'), std::string(255, 'n')},
  };
  for (const auto& [in, want] : cases) {
    std::string out = "stale";
    cr_assert(normalise_relative_path(in, &out), "refused \"%s\"", in.c_str());
    cr_assert_eq(out, want, "\"%s\" -> \"%s\", want \"%s\"", in.c_str(), out.c_str(), want.c_str());
  }
}

Test(agent_ref, traversal_refused) {
  const std::string bad[] = {
      "..",
      "../x",
      "a/../../x",
      "a/..",
      "a/./../b",
      "/etc/passwd",
      "/",
      "%2e%2e/x",
      "%2E%2E/x",
      "a%2fb",
      "a%2F..",
      "..%5cx",
      "a%5Cb",
      std::string("a\0b", 3),
      std::string("\0", 1),
      std::string(256, 'n'),
      std::string(4096, 'a'),
  };
  for (const std::string& in : bad) {
    std::string out;
    cr_assert_not(normalise_relative_path(in, &out), "accepted \"%s\" (%zu bytes)", in.c_str(), in.size());
  }
  std::string out;
  std::string long_ok;
  while (long_ok.size() + 11 < 4096) long_ok += "0123456789/";
  cr_assert(normalise_relative_path(long_ok, &out), "%zu bytes are within the limit", long_ok.size());
}
