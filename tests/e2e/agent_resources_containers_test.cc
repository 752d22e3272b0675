// Agent resources against the real engines: credentials opened into a run's
// exec environment only (the priority rule, never the container's create
// environment, never another agent's run), and a webhook trigger running the
// agent's CLI adapter with the payload rendered into the prompt on stdin.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include <criterion/criterion.h>

#include "tests/support/crew_world.h"
#include "tests/support/engine.h"

using namespace crewship::test;

namespace {

std::string credential(const World& w, const std::string& name, const std::string& value) {
  return create(w, "/api/v1/credentials",
                R"({"name":")" + name + R"(","provider":"CUSTOM","type":"SECRET","value":")" + value + R"("})");
}

void assign(const World& w, const std::string& agent, const std::string& cred, const std::string& env, int priority) {
  create(w, "/api/v1/agents/" + agent + "/credentials",
         R"({"credential_id":")" + cred + R"(","env_var_name":")" + env + R"(","priority":)" +
             std::to_string(priority) + "}");
}

std::vector<std::string> stdout_of(const World& w, const std::string& agent) {
  std::vector<std::string> lines;
  auto logs = json_of(get(w, "/api/v1/agents/" + agent + "/logs?limit=500"));
  for (const auto& e : logs.GetArray())
    if (std::string(e["stream"].GetString()) == "stdout") lines.emplace_back(e["content"].GetString());
  return lines;
}

bool env_holds(const World& w, const std::string& container, const std::string& needle) {
  auto c = json_of(engine_call(w.engine, "GET", "/containers/" + container + "/json"));
  for (const auto& e : c["Config"]["Env"].GetArray())
    if (std::string(e.GetString()).find(needle) != std::string::npos) return true;
  return false;
}

void credentials_reach_the_run_only(const std::string& engine) {
  World w = make_world(engine);
  std::string peer = create(w, "/api/v1/agents", R"({"name":"Peer","slug":"peer","crew_id":")" + w.crew + R"("})");
  assign(w, w.agent, credential(w, "Low", "low-secret-1111"), "SERVICE_TOKEN", 1);
  assign(w, w.agent, credential(w, "High", "high-secret-2222"), "SERVICE_TOKEN", 5);
  assign(w, w.agent, credential(w, "First", "first-secret-3333"), "TIE_TOKEN", 0);
  assign(w, w.agent, credential(w, "Second", "second-secret-4444"), "TIE_TOKEN", 0);
  std::string gone = credential(w, "Gone", "deleted-secret-5555");
  assign(w, w.agent, gone, "GONE_TOKEN", 9);
  cr_assert_eq(call(*w.d, "DELETE", "/api/v1/credentials/" + gone + q(w), w.owner.token).status, 204);
  std::string container = container_id(w);

  // The request's own env of the same name does not win over the vault.
  Reply r = ipc(w, "POST", "/api/v1/internal/agents/" + w.agent + "/start",
                R"({"cmd":["sh","-c","echo \"$SERVICE_TOKEN\"; echo \"$TIE_TOKEN\"; echo \"[$GONE_TOKEN]\"; echo \"$PLAIN\""],)"
                R"("env":{"SERVICE_TOKEN":"from-request","PLAIN":"kept"}})");
  cr_assert_eq(r.status, 202, "%d %s", r.status, r.body.c_str());
  auto done = wait_run(w, w.agent, json_of(r)["run_id"].GetString());
  cr_assert_str_eq(done["status"].GetString(), "SUCCEEDED");
  auto lines = stdout_of(w, w.agent);
  cr_assert_eq(lines.size(), 4u);
  cr_assert_str_eq(lines[0].c_str(), "high-secret-2222", "the highest priority wins");
  cr_assert_str_eq(lines[1].c_str(), "first-secret-3333", "then the earliest assigned");
  cr_assert_str_eq(lines[2].c_str(), "[]", "a deleted credential is not injected");
  cr_assert_str_eq(lines[3].c_str(), "kept");

  // Another agent of the same crew, in the same container, sees none of it.
  Reply p = ipc(w, "POST", "/api/v1/internal/agents/" + peer + "/start",
                R"({"cmd":["sh","-c","echo \"[$SERVICE_TOKEN][$TIE_TOKEN]\""]})");
  cr_assert_eq(p.status, 202, "%d %s", p.status, p.body.c_str());
  auto peer_run = wait_run(w, peer, json_of(p)["run_id"].GetString());
  cr_assert_str_eq(peer_run["status"].GetString(), "SUCCEEDED");
  auto peer_lines = stdout_of(w, peer);
  cr_assert_eq(peer_lines.size(), 1u);
  cr_assert_str_eq(peer_lines[0].c_str(), "[][]");

  for (const char* v : {"low-secret", "high-secret", "first-secret", "second-secret"}) {
    cr_assert_not(env_holds(w, container, v), "%s is not in the container's environment", v);
    cr_assert(w.d->log().find(v) == std::string::npos, "%s is never logged", v);
  }

  // The keeper's log: one row per credential opened, with the run; the peer
  // opened none. Never a value.
  Reply k = get(w, "/api/v1/admin/keeper/requests");
  cr_assert_eq(k.status, 200, "%s", k.body.c_str());
  auto rows = json_of(k);
  cr_assert_eq(rows.Size(), 2u, "%s", k.body.c_str());
  std::vector<std::string> names;
  for (const auto& row : rows.GetArray()) {
    cr_assert_str_eq(row["agent_id"].GetString(), w.agent.c_str());
    cr_assert_str_eq(row["run_id"].GetString(), done["id"].GetString());
    names.emplace_back(row["env_var_name"].GetString());
  }
  std::sort(names.begin(), names.end());
  cr_assert(names == std::vector<std::string>({"SERVICE_TOKEN", "TIE_TOKEN"}));
  cr_assert(k.body.find("secret-") == std::string::npos);
}

void webhook_runs_the_adapter_with_the_payload_on_stdin(const std::string& engine) {
  World w = make_world(engine);
  container_id(w);
  // A stand-in for the adapter's CLI, found first through a PATH credential.
  assign(w, w.agent, credential(w, "Path", "/output/coder/bin:/usr/bin:/bin"), "PATH", 0);
  auto setup = run(w, R"(["sh","-c","mkdir -p bin && printf '#!/bin/sh\necho \"args: $*\"\ncat > got.txt\n' > bin/claude && chmod +x bin/claude"])");
  cr_assert_str_eq(setup["status"].GetString(), "SUCCEEDED");

  Reply s = call(*w.d, "POST", "/api/v1/agents/" + w.agent + "/webhook-secret" + q(w), w.owner.token);
  cr_assert_eq(s.status, 201, "%s", s.body.c_str());
  std::string secret = json_of(s)["secret"].GetString();
  std::string payload = R"({"ref":"refs/heads/main","commits":[{"id":"abc123","message":"it's \"quoted\" $HOME"}]})";
  Reply t = call(*w.d, "POST", "/api/v1/webhooks/" + w.crew + "/" + w.agent + "/trigger", "", payload,
                 "X-Webhook-Secret: " + secret + "\r\n");
  cr_assert_eq(t.status, 202, "%d %s", t.status, t.body.c_str());
  std::string run_id = json_of(t)["run_id"].GetString();
  auto done = wait_run(w, w.agent, run_id);
  cr_assert_str_eq(done["status"].GetString(), "SUCCEEDED");

  auto lines = stdout_of(w, w.agent);
  cr_assert(!lines.empty());
  cr_assert_str_eq(lines.back().c_str(), "args: -p", "claude -p, as the adapter table says");
  Reply got = get(w, "/api/v1/agents/" + w.agent + "/files/download?path=got.txt");
  cr_assert_eq(got.status, 200, "%s", got.body.c_str());
  cr_assert(got.body.find(payload) != std::string::npos, "the payload, byte for byte, on stdin: %s", got.body.c_str());
  cr_assert(got.body.find("A webhook triggered this run of Agent") != std::string::npos, "%s", got.body.c_str());

  auto runs = json_of(get(w, "/api/v1/runs"));
  cr_assert_str_eq(runs[0]["id"].GetString(), run_id.c_str());
  cr_assert_str_eq(runs[0]["source"].GetString(), "webhook");
  cr_assert_str_eq(runs[1]["source"].GetString(), "ipc");
  const auto& cmd = runs[0]["cmd"];
  cr_assert_str_eq(cmd[cmd.Size() - 2].GetString(), "claude");
  cr_assert_str_eq(cmd[cmd.Size() - 1].GetString(), "-p");
  auto audit = json_of(get(w, "/api/v1/audit?action=webhook.triggered"));
  cr_assert_eq(audit.Size(), 1u);
  cr_assert_str_eq(audit[0]["details"]["run_id"].GetString(), run_id.c_str());
  cr_assert(audit[0]["actor_user_id"].IsNull());

  // The stdin file is removed once the run ended.
  std::string stdin_file = w.d->dir + "/storage/crews/" + w.crew + "/.crewship/stdin/" + run_id;
  for (int i = 0; i < 50 && std::filesystem::exists(stdin_file); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  cr_assert_not(std::filesystem::exists(stdin_file));
}

}  // namespace

#define BOTH_ENGINES(name)                                                          \
  Test(resources_docker, name, .timeout = 120) { name(engines().docker); } \
  Test(resources_podman, name, .timeout = 120) { name(engines().podman); }

BOTH_ENGINES(credentials_reach_the_run_only)
BOTH_ENGINES(webhook_runs_the_adapter_with_the_payload_on_stdin)
