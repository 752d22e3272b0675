// The container bridge end to end, against the real engines the test set-up
// started (a private dockerd, and Podman's compatible service when present)
// with the sandbox image built from Debian packages: crew containers, runs
// and their logs, container-files, git log, stop, and container exits.
#include <chrono>
#include <filesystem>
#include <thread>

#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/json.h"
#include "tests/support/api.h"
#include "tests/support/crew_world.h"
#include "tests/support/engine.h"
#include "tests/support/ws_client.h"

using namespace crewship::test;

namespace {

// The agent's roster row.
rapidjson::Document presence(const World& w) {
  auto r = json_of(get(w, "/api/v1/presence/roster"));
  cr_assert_eq(r["rows"].Size(), 1u, "one agent has presence");
  rapidjson::Document row;
  row.CopyFrom(r["rows"][0], row.GetAllocator());
  return row;
}

std::string agent_status(const World& w) {
  return json_of(get(w, "/api/v1/agents/" + w.agent))["status"].GetString();
}

// --- scenarios, each run against every engine ----------------------------------

void crew_container_lifecycle(const std::string& engine) {
  World w = make_world(engine);
  Reply before = get(w, "/api/v1/crews/" + w.crew + "/container/status");
  cr_assert_eq(before.status, 200, "%s", before.body.c_str());
  cr_assert_str_eq(json_of(before)["state"].GetString(), "missing");

  std::string id = container_id(w);
  Reply inspect = engine_call(engine, "GET", "/containers/" + id + "/json");
  cr_assert_eq(inspect.status, 200);
  auto c = json_of(inspect);
  cr_assert_str_eq(c["Config"]["Labels"]["crewship.crew_id"].GetString(), w.crew.c_str());
  cr_assert_str_eq(c["Config"]["Labels"]["crewship.workspace_id"].GetString(), w.owner.workspace_id.c_str());
  cr_assert_eq(c["HostConfig"]["Memory"].GetInt64(), 4096LL * 1024 * 1024);
  bool token = false;
  for (const auto& e : c["Config"]["Env"].GetArray())
    token |= std::string_view(e.GetString()).starts_with("CREWSHIP_INTERNAL_TOKEN=crwv1.");
  cr_assert(token, "the crew-bound token is in the environment");
  std::string name = c["Name"].GetString();
  cr_assert(name.find("crewship-team-crew-coder-" + w.crew) != std::string::npos, "%s", name.c_str());

  // The hook inside reaches crewshipd with the crew's own token. (Podman's
  // execs do not get the container's extra groups: there it runs as root.)
  std::string user = engine == engines().podman ? "0" : "1001:1001";
  std::string out = engine_exec(engine, id, {"/usr/local/bin/crewship-hook", "presence", "online", "--agent", w.agent},
                                user);
  cr_assert(out.find("online") != std::string::npos, "hook: %s", out.c_str());

  // A second start finds the same container.
  std::string again = container_id(w);
  cr_assert_str_eq(again.c_str(), id.c_str());
  // The IPC twin sees it too.
  Reply st = ipc(w, "GET", "/api/v1/internal/crews/" + w.crew + "/container/status");
  cr_assert_eq(st.status, 200);
  cr_assert_str_eq(json_of(st)["container_id"].GetString(), id.c_str());

  Reply stop = call(*w.d, "POST", "/api/v1/crews/" + w.crew + "/container/stop" + q(w), w.owner.token);
  cr_assert_eq(stop.status, 200, "%s", stop.body.c_str());
  cr_assert_str_neq(json_of(stop)["state"].GetString(), "running");
  std::string restarted = container_id(w);
  cr_assert_str_eq(restarted.c_str(), id.c_str(), "started again, not created again");
}

void run_output_reaches_logs(const std::string& engine) {
  World w = make_world(engine);
  container_id(w);
  auto r = run(w, R"(["sh","-c","echo one; echo two >&2; printf 'three|with bar\nfour'; pwd; id -u; exit 3"])");
  cr_assert_str_eq(r["status"].GetString(), "FAILED");
  cr_assert_eq(r["exit_code"].GetInt(), 3);
  std::string status = agent_status(w);
  cr_assert_str_eq(status.c_str(), "ERROR");

  auto logs = json_of(get(w, "/api/v1/agents/" + w.agent + "/logs"));
  std::vector<std::string> stdout_lines, stderr_lines;
  for (const auto& e : logs.GetArray()) {
    cr_assert(e.HasMember("ts"));
    (std::string(e["stream"].GetString()) == "stdout" ? stdout_lines : stderr_lines).push_back(e["content"].GetString());
  }
  std::string joined;
  for (const auto& l : stdout_lines) joined += l + "\n";
  cr_assert_eq(stdout_lines.size(), 4u, "%s", joined.c_str());
  cr_assert_str_eq(stdout_lines[0].c_str(), "one");
  cr_assert_str_eq(stdout_lines[1].c_str(), "three|with bar");
  cr_assert_str_eq(stdout_lines[2].c_str(), "four/output/coder");  // printf left no newline
  cr_assert_str_eq(stdout_lines[3].c_str(), "1001");
  cr_assert_eq(stderr_lines.size(), 1u);
  cr_assert_str_eq(stderr_lines[0].c_str(), "two");
  // The log is private whatever the umask: 0600 in 0700 directories.
  std::string log_dir = w.d->dir + "/logs/agents/" + w.agent;
  struct stat st;
  cr_assert_eq(stat((log_dir + "/00000000000000000000.jsonl").c_str(), &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0600, "log %o", st.st_mode & 0777);
  cr_assert_eq(stat(log_dir.c_str(), &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0700, "log dir %o", st.st_mode & 0777);

  // Paging.
  auto page = json_of(get(w, "/api/v1/agents/" + w.agent + "/logs?offset=1&limit=2"));
  cr_assert_eq(page.Size(), 2u);
  auto row = presence(w);
  cr_assert_str_eq(row["status"].GetString(), "online");
  cr_assert_eq(ipc(w, "GET", "/api/v1/internal/agents/" + w.agent + "/logs?limit=1").status, 200);
  cr_assert(json_of(ipc(w, "GET", "/api/v1/internal/agents/" + w.agent + "/logs?limit=1")).HasMember("logs"));
}

// Reads streamed log lines from a follow connection until n lines came.
std::vector<std::string> follow_lines(const World& w, int offset, size_t n) {
  int fd = connect_tcp(w.d->port);
  cr_assert(fd >= 0);
  std::string req = "GET /api/v1/agents/" + w.agent + "/logs?follow=1&offset=" + std::to_string(offset) + "&" +
                    q(w).substr(1) + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + w.owner.token + "\r\n\r\n";
  cr_assert(send_all(fd, req));
  std::string buf;
  std::vector<std::string> lines;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (lines.size() < n) {
    cr_assert(std::chrono::steady_clock::now() < deadline, "only %zu of %zu lines followed", lines.size(), n);
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 1000) != 1) continue;
    char tmp[4096];
    ssize_t got = read(fd, tmp, sizeof tmp);
    cr_assert(got > 0, "follow stream closed");
    buf.append(tmp, static_cast<size_t>(got));
    // Chunked framing: pick the JSON lines out of the chunks.
    lines.clear();
    size_t body = buf.find("\r\n\r\n");
    if (body == std::string::npos) continue;
    std::string_view rest = std::string_view(buf).substr(body + 4);
    while (true) {
      size_t crlf = rest.find("\r\n");
      if (crlf == std::string_view::npos) break;
      size_t len = std::stoul(std::string(rest.substr(0, crlf)), nullptr, 16);
      if (rest.size() < crlf + 2 + len + 2) break;
      std::string_view chunk = rest.substr(crlf + 2, len);
      if (!chunk.empty() && chunk.back() == '\n') chunk.remove_suffix(1);
      lines.emplace_back(chunk);
      rest.remove_prefix(crlf + 2 + len + 2);
    }
  }
  close(fd);
  return lines;
}

void logs_follow_and_resume(const std::string& engine) {
  World w = make_world(engine);
  container_id(w);
  Reply r = ipc(w, "POST", "/api/v1/internal/agents/" + w.agent + "/start",
                R"({"cmd":["sh","-c","for i in 1 2 3 4 5 6; do echo line$i; sleep 0.4; done"]})");
  cr_assert_eq(r.status, 202, "%s", r.body.c_str());
  auto first = follow_lines(w, 0, 3);  // leaves after three
  auto rest = follow_lines(w, 3, 3);   // resumes at the next
  std::vector<std::string> all(first);
  all.insert(all.end(), rest.begin(), rest.end());
  for (int i = 0; i < 6; ++i) {
    auto doc = json_of(Reply{200, {}, all[static_cast<size_t>(i)]});
    std::string want = "line" + std::to_string(i + 1);
    cr_assert_str_eq(doc["content"].GetString(), want.c_str(), "entry %d", i);
  }
}

// Over /ws: run.started, the run's lines as they come (agent_logs from
// offset 0), run.finished.
void ws_run_events_and_live_logs(const std::string& engine) {
  World w = make_world(engine);
  container_id(w);
  Reply t = call(*w.d, "GET", "/api/v1/ws-token", w.owner.token);
  cr_assert_eq(t.status, 200);
  auto ws = WsClient::open(connect_tcp(w.d->port), std::string("/ws?token=") + json_of(t)["token"].GetString());
  cr_assert(ws != nullptr);
  cr_assert(ws->send_text(R"({"type":"subscribe","channel":"events","workspace_id":")" + w.owner.workspace_id + "\"}"));
  cr_assert(ws->next_of("subscribed").has_value());
  cr_assert(ws->send_text(R"({"type":"subscribe","channel":"agent_logs","workspace_id":")" + w.owner.workspace_id +
                          R"(","agent_id":")" + w.agent + "\"}"));
  cr_assert(ws->next_of("subscribed").has_value());
  Reply r = ipc(w, "POST", "/api/v1/internal/agents/" + w.agent + "/start",
                R"({"cmd":["sh","-c","for i in 1 2 3; do echo line$i; sleep 0.2; done"]})");
  cr_assert_eq(r.status, 202, "%s", r.body.c_str());
  std::string run_id = json_of(r)["run_id"].GetString();
  int lines = 0;
  bool started = false, finished = false;
  for (int i = 0; i < 40 && !finished; ++i) {
    auto m = ws->next_json(10000);
    cr_assert(m.has_value(), "no frame after %d lines", lines);
    std::string type = (*m)["type"].GetString();
    if (type == "log") {
      cr_assert_eq((*m)["offset"].GetInt(), lines);
      cr_assert_str_eq((*m)["content"].GetString(), ("line" + std::to_string(++lines)).c_str());
    } else if (type == "event" && std::string((*m)["event"].GetString()) == "run.started") {
      cr_assert_str_eq((*m)["data"]["run_id"].GetString(), run_id.c_str());
      started = true;
    } else if (type == "event" && std::string((*m)["event"].GetString()) == "run.finished") {
      cr_assert(started, "finished before started");
      cr_assert_str_eq((*m)["data"]["status"].GetString(), "SUCCEEDED");
      cr_assert_eq((*m)["data"]["exit_code"].GetInt(), 0);
      finished = true;
    }
  }
  cr_assert(finished);
  cr_assert_eq(lines, 3);
}

void container_files(const std::string& engine) {
  World w = make_world(engine);
  container_id(w);
  auto r = run(w, R"(["sh","-c","cd /home/agent && mkdir -p d1/d2/d3/d4 && touch 'a b' 'x|y' \"$(printf 'new\nline')\" d1/d2/d3/deep && printf 12345 > d1/five"])");
  cr_assert_str_eq(r["status"].GetString(), "SUCCEEDED");

  Reply all = get(w, "/api/v1/agents/" + w.agent + "/container-files");
  cr_assert_eq(all.status, 200, "%s", all.body.c_str());
  auto files = json_of(all);
  cr_assert(files.IsArray());
  auto find = [](const rapidjson::Document& list, const std::string& path) -> const rapidjson::Value* {
    for (const auto& e : list.GetArray())
      if (path == e["path"].GetString()) return &e;
    return nullptr;
  };
  cr_assert(find(files, "agent/a b") != nullptr, "%s", all.body.c_str());
  cr_assert(find(files, "agent/x|y") != nullptr);
  cr_assert(find(files, "agent/new\nline") != nullptr);
  cr_assert(find(files, "agent/d1/d2") != nullptr);
  cr_assert(find(files, "agent/d1/d2/d3") == nullptr, "depth 3 below /home");
  const auto* five = find(files, "agent/d1/five");
  cr_assert(five != nullptr);
  cr_assert_eq((*five)["size"].GetInt64(), 5);
  Reply sub = get(w, "/api/v1/agents/" + w.agent + "/container-files?subdir=agent/./d1");
  auto subfiles = json_of(sub);
  const auto* f5 = find(subfiles, "agent/d1/five");
  cr_assert(f5 != nullptr, "%s", sub.body.c_str());
  cr_assert_eq((*f5)["size"].GetInt64(), 5);
  cr_assert_not((*f5)["is_dir"].GetBool());
  cr_assert_str_eq((*f5)["name"].GetString(), "five");
  cr_assert(find(subfiles, "agent/d1/d2/d3/deep") != nullptr);
  cr_assert(find(subfiles, "agent/d1/d2/d3/d4") != nullptr);

  for (const char* bad : {"../etc", "/etc", "agent/../../etc", "%252e%252e/etc", "a%00b"}) {
    Reply b = get(w, "/api/v1/agents/" + w.agent + "/container-files?subdir=" + bad);
    cr_assert_eq(b.status, 400, "subdir=%s: %d %s", bad, b.status, b.body.c_str());
  }
  Reply env = ipc(w, "GET", "/api/v1/internal/agents/" + w.agent + "/container-files");
  cr_assert(json_of(env)["files"].IsArray());
}

void git_log(const std::string& engine) {
  World w = make_world(engine);
  container_id(w);
  cr_assert_eq(json_of(get(w, "/api/v1/agents/" + w.agent + "/git-log")).Size(), 0u, "not a repository");
  auto r = run(w, R"(["sh","-c","git init -q . && for i in $(seq 1 25); do git -c user.name='Ann Dev' -c user.email=ann@example.com commit -q --allow-empty -m \"fix: $i | piped\"; done"])");
  cr_assert_str_eq(r["status"].GetString(), "SUCCEEDED");
  auto first = json_of(get(w, "/api/v1/agents/" + w.agent + "/git-log"));
  cr_assert_eq(first.Size(), 20u);
  cr_assert_str_eq(first[0]["message"].GetString(), "fix: 25 | piped");
  cr_assert_str_eq(first[0]["author"].GetString(), "Ann Dev <ann@example.com>");
  cr_assert_eq(std::string(first[0]["hash"].GetString()).size(), 40u);
  auto five = json_of(get(w, "/api/v1/agents/" + w.agent + "/git-log?limit=5"));
  cr_assert_eq(five.Size(), 5u);
  std::string before = five[4]["hash"].GetString();
  auto older = json_of(get(w, "/api/v1/agents/" + w.agent + "/git-log?limit=5&before=" + before));
  cr_assert_eq(older.Size(), 5u);
  cr_assert_str_eq(older[0]["message"].GetString(), "fix: 20 | piped");
  cr_assert_eq(json_of(get(w, "/api/v1/agents/" + w.agent + "/git-log?limit=101")).Size(), 25u, "clamped to 100");
  cr_assert_eq(get(w, "/api/v1/agents/" + w.agent + "/git-log?limit=0").status, 400);
  cr_assert_eq(get(w, "/api/v1/agents/" + w.agent + "/git-log?before=zz").status, 400);
  cr_assert(json_of(ipc(w, "GET", "/api/v1/internal/agents/" + w.agent + "/git-log")).HasMember("commits"));

  // Issue: a repository owned by another uid (made by root in the container)
  // answered [] because git refused its "dubious ownership". The log is
  // read-only: it works whoever owns the repository.
  std::string id = container_id(w);
  engine_exec(w.engine, id, {"chown", "-R", "0:0", "/output/" + w.slug});
  auto owned = json_of(get(w, "/api/v1/agents/" + w.agent + "/git-log?limit=3"));
  cr_assert_eq(owned.Size(), 3u, "a root-owned repository's log");
  cr_assert_str_eq(owned[0]["message"].GetString(), "fix: 25 | piped");
}

void stop_agent(const std::string& engine) {
  World w = make_world(engine);
  std::string id = container_id(w);
  // A large environment must not hide the agent's processes from stop.
  Reply r = ipc(w, "POST", "/api/v1/internal/agents/" + w.agent + "/start",
                R"({"cmd":["sh","-c","sleep 600 & sleep 600"],"env":{"BIG1":")" + std::string(40000, 'x') +
                    R"(","BIG2":")" + std::string(40000, 'y') + R"("}})");
  cr_assert_eq(r.status, 202, "%s", r.body.c_str());
  std::string ps;
  for (int i = 0; i < 50 && ps.find("sleep 600") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ps = engine_exec(engine, id, {"ps", "-o", "pid,args"});
  }
  cr_assert(ps.find("sleep 600") != std::string::npos, "%s", ps.c_str());
  cr_assert_eq(ipc(w, "POST", "/api/v1/internal/agents/" + w.agent + "/start", R"({"cmd":["true"]})").status, 409);

  Reply stop = call(*w.d, "POST", "/api/v1/agents/" + w.agent + "/stop" + q(w), w.owner.token);
  cr_assert_eq(stop.status, 200, "%s", stop.body.c_str());
  cr_assert_str_eq(json_of(stop)["status"].GetString(), "STOPPED");
  ps = engine_exec(engine, id, {"ps", "-o", "pid,args"});
  cr_assert(ps.find("sleep 600") == std::string::npos, "still running:\n%s", ps.c_str());
  std::string status = agent_status(w);
  cr_assert_str_eq(status.c_str(), "STOPPED");
  auto runs = json_of(get(w, "/api/v1/agents/" + w.agent + "/runs"));
  for (int i = 0; i < 50 && std::string(runs[0]["status"].GetString()) == "RUNNING"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    runs = json_of(get(w, "/api/v1/agents/" + w.agent + "/runs"));
  }
  cr_assert_str_eq(runs[0]["status"].GetString(), "STOPPED");
  auto row = presence(w);
  cr_assert_str_eq(row["status"].GetString(), "online");
  cr_assert_str_eq(row["details"]["reason"].GetString(), "stopped");
  // Nothing runs now: stopping again answers the same.
  Reply again = call(*w.d, "POST", "/api/v1/agents/" + w.agent + "/stop" + q(w), w.owner.token);
  cr_assert_eq(again.status, 200, "%s", again.body.c_str());
}

void container_exit_goes_offline(const std::string& engine) {
  World w = make_world(engine);
  std::string id = container_id(w);
  Reply on = ipc(w, "POST", "/api/v1/internal/presence", R"({"agent_id":")" + w.agent + R"(","status":"online"})");
  cr_assert_eq(on.status, 200);
  cr_assert_eq(engine_call(engine, "POST", "/containers/" + id + "/kill").status, 204);
  for (int i = 0; i < 100; ++i) {
    auto row = presence(w);
    if (std::string(row["status"].GetString()) == "offline") {
      cr_assert_str_eq(row["details"]["reason"].GetString(), "container_exit");
      cr_assert_eq(row["details"]["exit_code"].GetInt(), 137);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  cr_assert_fail("the agent did not go offline after its container was killed");
}

void debug_and_gates(const std::string& engine) {
  World w = make_world(engine);
  container_id(w);
  run(w, R"(["echo","hello"])");
  Reply dbg = get(w, "/api/v1/agents/" + w.agent + "/debug");
  cr_assert_eq(dbg.status, 200, "%s", dbg.body.c_str());
  auto doc = json_of(dbg);
  cr_assert_str_eq(doc["container"]["state"].GetString(), "running");
  cr_assert_str_eq(doc["run"]["status"].GetString(), "SUCCEEDED");
  cr_assert_str_eq(doc["logs"][0]["content"].GetString(), "hello");
  Session viewer = member(*w.d, w.owner, "viewer@example.com", "VIEWER");
  cr_assert_eq(call(*w.d, "GET", "/api/v1/agents/" + w.agent + "/debug" + q(w), viewer.token).status, 403);
  cr_assert_eq(call(*w.d, "POST", "/api/v1/agents/" + w.agent + "/stop" + q(w), viewer.token).status, 403);
  cr_assert_eq(call(*w.d, "GET", "/api/v1/agents/" + w.agent + "/git-log" + q(w), viewer.token).status, 200);
  std::string loner = create(w, "/api/v1/agents", R"({"name":"Loner","slug":"loner"})");
  cr_assert_eq(get(w, "/api/v1/agents/" + loner + "/container-files").status, 404);
  cr_assert_eq(get(w, "/api/v1/agents/" + loner + "/git-log").status, 404);
}

// Issue: the first container start after a build without crewship-hook
// failed, the engine made the hook's path a directory, and that broken
// container was started again on every retry until removed by hand.
std::string hand_made_container(const World& w, const std::vector<std::string>& binds, const std::string& entrypoint) {
  crewship::json::Out b;
  b.begin_object();
  b.member("Image", engines().image);
  b.strings("Entrypoint", {entrypoint, "init"});
  b.key("Labels");
  b.begin_object();
  b.member("crewship.crew_id", w.crew);
  b.member("crewship.workspace_id", w.owner.workspace_id);
  b.end_object();
  b.key("HostConfig");
  b.begin_object();
  b.strings("Binds", binds);
  b.member("NetworkMode", "none");
  b.end_object();
  b.end_object();
  Reply r = engine_call(w.engine, "POST", "/containers/create?name=crewship-team-crew-" + w.slug + "-" + w.crew, b.take());
  cr_assert_eq(r.status, 201, "create by hand: %d %s", r.status, r.body.c_str());
  return json_of(r)["Id"].GetString();
}

void broken_container_is_recreated(const std::string& engine) {
  World w = make_world(engine);
  std::string storage = std::filesystem::canonical(w.d->dir).string() + "/storage/crews/" + w.crew;
  std::string hook = std::filesystem::canonical(daemon_binary()).parent_path().string() + "/crewship-hook";

  // What the issue saw: the hook's path bound from a directory (and /output
  // from elsewhere); its start failed.
  std::filesystem::create_directories(w.d->dir + "/made-by-engine");
  std::filesystem::create_directories(w.d->dir + "/elsewhere");
  std::string bad = hand_made_container(
      w, {w.d->dir + "/elsewhere:/output", w.d->dir + "/made-by-engine:/usr/local/bin/crewship-hook:ro"},
      "/usr/local/bin/crewship-hook");
  cr_assert_neq(engine_call(engine, "POST", "/containers/" + bad + "/start").status, 204, "a directory is no hook");
  std::string id = container_id(w);
  cr_assert_str_neq(id.c_str(), bad.c_str(), "a new container");
  cr_assert_eq(engine_call(engine, "GET", "/containers/" + bad + "/json").status, 404, "the broken one is gone");
  auto inspect = json_of(engine_call(engine, "GET", "/containers/" + id + "/json"));
  bool output = false;
  for (const auto& m : inspect["Mounts"].GetArray())
    output |= std::string(m["Destination"].GetString()) == "/output" && storage == m["Source"].GetString();
  cr_assert(output, "/output is the crew's storage");

  // crewshipd's own mounts, but a container that cannot start (never started).
  cr_assert_eq(engine_call(engine, "DELETE", "/containers/" + id + "?force=1").status, 204);
  std::string cannot = hand_made_container(
      w, {storage + ":/output", w.d->socket + ":/run/crewship/crewship.sock", hook + ":/usr/local/bin/crewship-hook:ro"},
      "/no/such/program");
  std::string again = container_id(w);
  cr_assert_str_neq(again.c_str(), cannot.c_str(), "a new container");
  cr_assert_eq(engine_call(engine, "GET", "/containers/" + cannot + "/json").status, 404, "the broken one is gone");
  // A healthy one is kept.
  std::string kept = container_id(w);
  cr_assert_str_eq(kept.c_str(), again.c_str());
}

}  // namespace

// A build directory with crewshipd alone: it refuses to start, naming the
// hook's path and CREWSHIP_HOOK_BINARY, before it touches its data dir.
Test(containers_first_run, refuses_to_start_without_the_hook, .timeout = 60) {
  std::string dir = make_temp_dir();
  std::string bin = dir + "/crewshipd";
  std::filesystem::copy_file(daemon_binary(), bin);
  std::vector<std::string> env = {"PATH=/usr/bin:/bin", "CREWSHIP_DATA_DIR=" + dir + "/data", "CREWSHIP_PORT=0",
                                  "CREWSHIP_HOST=127.0.0.1", "DOCKER_HOST=unix://" + dir + "/no-engine.sock"};
  auto refused = [&](const std::vector<std::string>& more_env, const std::string& path) {
    std::vector<std::string> e = env;
    e.insert(e.end(), more_env.begin(), more_env.end());
    std::string out;
    int rc = run({"/usr/bin/timeout", "10", bin}, e, &out);
    cr_assert_eq(rc, 1, "exit %d (124: it started): %s", rc, out.c_str());
    cr_assert(out.find(path) != std::string::npos, "names %s: %s", path.c_str(), out.c_str());
    cr_assert(out.find("CREWSHIP_HOOK_BINARY") != std::string::npos, "%s", out.c_str());
    cr_assert_not(std::filesystem::exists(dir + "/data/crewship.db"), "the data dir was left alone");
  };
  refused({}, dir + "/crewship-hook");
  // What an engine leaves there, a directory, is no hook either.
  std::filesystem::create_directory(dir + "/crewship-hook");
  refused({}, dir + "/crewship-hook");
  // Nor is a file that cannot run.
  close(open((dir + "/hook").c_str(), O_WRONLY | O_CREAT, 0644));
  refused({"CREWSHIP_HOOK_BINARY=" + dir + "/hook"}, dir + "/hook");
  remove_tree(dir);
}

// A rotated crew token: the running container's hooks are refused at once;
// the next start finds its token revoked and makes the container again
// with the new one, whose hooks work.
void rotated_token_remakes_the_container(const std::string& engine) {
  World w = make_world(engine);
  std::string id = container_id(w);
  std::string user = engine == engines().podman ? "0" : "1001:1001";
  auto hook = [&](const std::string& container) {
    return engine_exec(engine, container, {"/usr/local/bin/crewship-hook", "presence", "busy", "--agent", w.agent}, user);
  };
  cr_assert(hook(id).find("busy") != std::string::npos);
  Reply r = call(*w.d, "POST", "/api/v1/crews/" + w.crew + "/rotate-token" + q(w), w.owner.token);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  std::string refused = hook(id);
  cr_assert(refused.find("401") != std::string::npos || refused.find("invalid internal token") != std::string::npos,
            "the old container's hook: %s", refused.c_str());
  std::string remade = container_id(w);
  cr_assert_str_neq(remade.c_str(), id.c_str(), "made again");
  cr_assert(hook(remade).find("busy") != std::string::npos, "the new container's hook works");
  cr_assert(w.d->wait_log("revoked token", 2000));
}

// A ghost's run is stopped even when the engine refuses the first stop:
// the container is paused as the hire expires (the engine refuses an exec
// into it), then unpaused; the stop is asked again and the processes end.
void ghost_stop_is_asked_again(const std::string& engine) {
  World w = make_world(engine, "coder", {"CREWSHIP_EPHEMERAL_SWEEP_INTERVAL=200ms"});
  std::string id = container_id(w);
  Reply r = ipc(w, "POST", "/api/v1/internal/agents/" + w.agent + "/start", R"({"cmd":["sh","-c","sleep 600 & sleep 600"]})");
  cr_assert_eq(r.status, 202, "%s", r.body.c_str());
  auto running = [&] { return engine_exec(engine, id, {"ps", "-o", "pid,args"}).find("sleep 600") != std::string::npos; };
  for (int i = 0; i < 50 && !running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  cr_assert(running(), "the run started");
  Reply paused = engine_call(engine, "POST", "/containers/" + id + "/pause");
  cr_assert_eq(paused.status, 204, "%s", paused.body.c_str());
  // The agent becomes a hire past its TTL behind the daemon's back.
  sql(*w.d, "UPDATE agents SET ephemeral = 1, expires_at = '2000-01-01T00:00:00Z' WHERE id = '" + w.agent + "'");
  cr_assert(w.d->wait_log("could not be stopped", 10000), "the stop was refused while the container was paused");
  Reply unpaused = engine_call(engine, "POST", "/containers/" + id + "/unpause");
  cr_assert_eq(unpaused.status, 204, "%s", unpaused.body.c_str());
  for (int i = 0; i < 100 && running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  cr_assert_not(running(), "the ghost's processes still run 10 s after the container was unpaused");
  cr_assert(json_of(get(w, "/api/v1/agents/" + w.agent))["expired_at"].IsString(), "a ghost");
}

// Eight concurrent 32 MiB saves go through a temporary file, not memory, and
// arrive in the container (the crew's storage at /output) byte for byte.
void saved_files_reach_the_container(const std::string& engine) {
  World w = make_world(engine);
  std::string id = container_id(w);
  constexpr int kClients = 8;
  std::vector<std::string> paths, bodies;
  for (int i = 0; i < kClients; ++i) {
    paths.push_back("/api/v1/agents/" + w.agent + "/files/save" + q(w) + "&path=up/" + std::to_string(i));
    bodies.push_back(seeded_bytes(32 << 20, static_cast<uint8_t>(i)));
  }
  ConcurrentPuts run = concurrent_puts(*w.d, paths, w.owner.token, bodies);
  cr_log_info("peak VmRSS %ld KiB during %d concurrent 32 MiB saves", run.peak_rss_kib, kClients);
  cr_assert_lt(run.peak_rss_kib, 64 * 1024, "VmRSS reached %ld KiB", run.peak_rss_kib);
  std::string cmd = "sha256sum";
  for (int i = 0; i < kClients; ++i) {
    cr_assert_eq(run.replies[i].status, 200, "save %d: %d %s", i, run.replies[i].status, run.replies[i].body.c_str());
    cmd += " up/" + std::to_string(i);
  }
  std::string sums = engine_exec(engine, id, {"sh", "-c", cmd}, "1001:1001", "/output/" + w.slug);
  for (int i = 0; i < kClients; ++i) {
    std::string line = sha256_hex(bodies[i]) + "  up/" + std::to_string(i);
    cr_assert(sums.find(line) != std::string::npos, "in the container: %s, want %s", sums.c_str(), line.c_str());
  }
  cr_assert(uploads(*w.d).empty(), "temporary files left");
}

#define BOTH_ENGINES(name)                                          \
  Test(containers_docker, name, .timeout = 120) { name(engines().docker); } \
  Test(containers_podman, name, .timeout = 120) { name(engines().podman); }

BOTH_ENGINES(crew_container_lifecycle)
BOTH_ENGINES(run_output_reaches_logs)
BOTH_ENGINES(logs_follow_and_resume)
BOTH_ENGINES(ws_run_events_and_live_logs)
BOTH_ENGINES(container_files)
BOTH_ENGINES(git_log)
BOTH_ENGINES(stop_agent)
BOTH_ENGINES(ghost_stop_is_asked_again)
BOTH_ENGINES(container_exit_goes_offline)
BOTH_ENGINES(debug_and_gates)
BOTH_ENGINES(broken_container_is_recreated)
BOTH_ENGINES(rotated_token_remakes_the_container)
BOTH_ENGINES(saved_files_reach_the_container)
