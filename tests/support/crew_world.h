// Container tests' world: a crewshipd on a real engine (from the engines
// fixture) with an owner, a crew and an agent in it, and the calls the
// scenarios make against it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "tests/support/api.h"

namespace crewship::test {

struct World {
  std::unique_ptr<TestDaemon> d;
  std::string engine;  // its socket
  Session owner;
  std::string crew, agent, slug;
};

// ?workspace_id= of the owner's workspace.
std::string q(const World& w);
// POSTs body to path (in the owner's workspace) and returns the new id.
std::string create(const World& w, const std::string& path, const std::string& body);
// A daemon on engine (with more_env among its settings) with a crew
// "crew-<slug>" and its agent <slug>.
World make_world(const std::string& engine, const std::string& slug = "coder",
                 std::vector<std::string> more_env = {});
// One request on the IPC socket with the master token.
Reply ipc(const World& w, const std::string& method, const std::string& path, const std::string& body = "");
// GET path as the owner, in the owner's workspace.
Reply get(const World& w, const std::string& path);
// Starts the crew's container; its id.
std::string container_id(const World& w);
// Waits for run run_id of agent to end; returns the run object.
rapidjson::Document wait_run(const World& w, const std::string& agent, const std::string& run_id,
                             int timeout_ms = 30000);
// Starts a run through the IPC channel and waits for its end; returns the run object.
rapidjson::Document run(const World& w, const std::string& cmd_json, int timeout_ms = 30000);

}  // namespace crewship::test
