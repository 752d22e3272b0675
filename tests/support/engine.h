// Container tests' side of the engine: which real engines the test set-up
// started (CREWSHIP_TEST_ENGINES names the env file it wrote), and plain
// calls to them, to check behind crewshipd's back.
#pragma once

#include <string>
#include <vector>

#include "tests/support/harness.h"

namespace crewship::test {

struct Engines {
  std::string docker;  // socket paths; empty when that engine is unavailable
  std::string podman;
  std::string image;
};
// Fails the test when the set-up did not run.
Engines engines();

// One call to the engine's API (/v1.41 prefixed), Content-Length or chunked.
Reply engine_call(const std::string& socket, const std::string& method, const std::string& path,
                  const std::string& body = "");
// Runs cmd in the container as user (in workdir when set) and returns its
// output, stdout and stderr as they came. Create, start, inspect: the calls
// crewshipd makes for an exec.
std::string engine_exec(const std::string& socket, const std::string& container,
                        const std::vector<std::string>& cmd, const std::string& user = "0",
                        const std::string& workdir = "");

}  // namespace crewship::test
