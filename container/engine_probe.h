// Finding the container engine: DOCKER_HOST, then the usual Docker and
// Podman socket paths (system, then rootless); the first that answers
// /_ping wins, and /version tells Docker from Podman.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

namespace crewship::container {

struct EngineInfo {
  bool reachable = false;
  std::string socket;       // the socket path that answered
  std::string name;         // "docker" or "podman"
  std::string version;      // engine version
  std::string api_version;  // e.g. "1.47"
  std::string error;        // why nothing answered
};

// Socket paths to try, in order. DOCKER_HOST must be unix://PATH when set;
// anything else fills *error and yields no candidates.
std::vector<std::string> engine_candidates(const std::string& docker_host, std::string* error);

class EngineProbe;

// Tries each candidate with its own timeout; done runs on the loop, once,
// unless the probe is cancelled first.
std::shared_ptr<EngineProbe> probe_engine(uv_loop_t* loop, std::vector<std::string> candidates,
                                          uint64_t timeout_ms,
                                          std::function<void(EngineInfo)> done);
// Stops a probe under way (its sockets close now; done never runs).
void cancel(EngineProbe& probe);

// Reads name, version and API version from a /version reply body.
bool parse_engine_version(std::string_view body, EngineInfo* info);

}  // namespace crewship::container
