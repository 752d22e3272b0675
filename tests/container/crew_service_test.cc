// The crew-container service through the Engine interface, against an
// in-process fake engine (no sockets to an engine): what it creates, what it
// keeps, what it removes and makes again, and what it never asks for.
#include <deque>
#include <filesystem>
#include <functional>

#include <criterion/criterion.h>
#include <fcntl.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "container/crew_service.h"
#include "tests/support/harness.h"

using namespace crewship;
using container::EngineReply;

namespace {

struct Call {
  std::string method, path, body;
};

// Answers each call on the next loop turn with what answer() says.
class FakeEngine : public container::Engine {
 public:
  explicit FakeEngine(uv_loop_t* loop) {
    uv_timer_init(loop, &timer_);
    timer_.data = this;
  }
  void shut() { uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr); }

  std::function<EngineReply(const Call&)> answer;
  std::vector<Call> calls;

  bool call(std::string_view method, std::string path, std::string body, const std::string&, Reply done,
            uint64_t = 0) override {
    calls.push_back({std::string(method), std::move(path), std::move(body)});
    pending_.push_back({calls.back(), std::move(done)});
    uv_timer_start(&timer_, [](uv_timer_t* t) { static_cast<FakeEngine*>(t->data)->deliver(); }, 0, 0);
    return true;
  }
  Exec* exec(container::ExecSpec, Output, std::function<void(container::ExecResult&&)>) override {
    return nullptr;  // as at the cap
  }
  void cancel(Exec*) override {}
  Watch* events(std::string, std::function<void(std::string_view)>, std::function<void(int)>) override {
    return nullptr;
  }
  void cancel(Watch*) override {}
  void close() override {
    auto left = std::move(pending_);
    for (auto& p : left) {
      EngineReply r;
      r.err = UV_ECANCELED;
      p.second(std::move(r));
    }
  }
  const std::string& socket_path() const override { return socket_; }
  void set_socket_path(std::string path) override { socket_ = std::move(path); }

 private:
  void deliver() {
    while (!pending_.empty()) {
      auto p = std::move(pending_.front());
      pending_.pop_front();
      p.second(answer(p.first));
    }
  }
  uv_timer_t timer_;
  std::deque<std::pair<Call, Reply>> pending_;
  std::string socket_ = "fake";
};

EngineReply reply(int status, std::string body = "") {
  EngineReply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

struct Fixture {
  std::string dir = test::make_temp_dir();
  uv_loop_t loop;
  Config config;
  store::Store db;
  store::PresenceService presence{db};
  FakeEngine* engine = nullptr;
  std::unique_ptr<container::CrewService> crews;
  int socket_fd = -1;
  std::string storage;
  std::vector<std::string> reports;

  Fixture() {
    uv_loop_init(&loop);
    config.data_dir = dir;
    config.socket_path = dir + "/ipc.sock";
    config.hook_binary = dir + "/hook";
    config.sandbox_image = "sandbox:test";
    storage = dir + "/storage/crews/c1";
    close(open(config.hook_binary.c_str(), O_WRONLY | O_CREAT, 0755));
    socket_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {};
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s", config.socket_path.c_str());
    cr_assert_eq(bind(socket_fd, reinterpret_cast<struct sockaddr*>(&a), sizeof a), 0);
    std::string error;
    cr_assert_eq(db.open(&loop, dir, 64, &error), 0, "%s", error.c_str());
    bool done = false;
    db.writer().submit(
        [](store::Connection& c) {
          return c.exec(
              "INSERT INTO workspaces VALUES ('w1', 'W', 'w', 't', 't');"
              "INSERT INTO crews (id, workspace_id, name, slug, created_at, updated_at)"
              " VALUES ('c1', 'w1', 'C', 'crew', 't', 't');");
        },
        [&](int rc) {
          cr_assert_eq(rc, SQLITE_OK);
          done = true;
        });
    wait(done);
    auto fake = std::make_unique<FakeEngine>(&loop);
    engine = fake.get();
    crews = std::make_unique<container::CrewService>(
        &loop, config, db, presence, std::move(fake),
        [](const std::string& ws, const std::string& crew, int64_t generation) {
          return "token-" + ws + "-" + crew + (generation == 0 ? "" : "-g" + std::to_string(generation));
        },
        [this](log::Level, const std::string& text) { reports.push_back(text); });
  }
  ~Fixture() {
    crews->stop();
    engine->shut();
    bool closed = false;
    db.close([&] { closed = true; });
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert(closed);
    crews.reset();
    uv_loop_close(&loop);
    close(socket_fd);
    test::remove_tree(dir);
  }
  // Runs the loop until done is set. Not UV_RUN_ONCE: the fake engine answers
  // from a timer, after which ONCE would block in its poll.
  void wait(const bool& done) {
    while (!done) {
      uv_run(&loop, UV_RUN_NOWAIT);
      if (!done) usleep(500);
    }
  }
  Result<std::string> ensure() {
    bool done = false;
    Result<std::string> out = fail(0, "not answered");
    crews->ensure("c1", [&](Result<std::string> id) {
      out = std::move(id);
      done = true;
    });
    wait(done);
    return out;
  }
  // The inspect answer of a container with mounts from output_src and the right others.
  std::string inspected(const std::string& state, const std::string& error, const std::string& output_src,
                        const std::string& token = "token-w1-c1") {
    return R"({"Config":{"Env":["PATH=/bin","CREWSHIP_INTERNAL_TOKEN=)" + token + R"("]},)" +
           R"("State":{"Status":")" + state + R"(","Error":")" + error + R"("},"Mounts":[)" +
           R"({"Source":")" + output_src + R"(","Destination":"/output"},)" + R"({"Source":")" +
           config.socket_path + R"(","Destination":"/run/crewship/crewship.sock"},)" + R"({"Source":")" +
           config.hook_binary + R"(","Destination":"/usr/local/bin/crewship-hook"}]})";
  }
  std::vector<std::string> methods() const {
    std::vector<std::string> out;
    for (const Call& c : engine->calls) out.push_back(c.method + " " + c.path.substr(0, c.path.find('?')));
    return out;
  }
};

// The standard answers; existing: the list's one container, or none.
EngineReply standard(const Call& c, const std::string& existing, const std::string& inspect) {
  if (c.path.starts_with("/containers/json")) return reply(200, existing.empty() ? "[]" : "[" + existing + "]");
  if (c.method == "GET") return reply(200, inspect);
  if (c.method == "POST" && c.path.starts_with("/containers/create")) return reply(201, R"({"Id":"new"})");
  if (c.method == "POST" && c.path.ends_with("/start")) return reply(204);
  if (c.method == "DELETE") return reply(204);
  return reply(500, R"({"message":"unexpected"})");
}

}  // namespace

Test(crew_service, creates_a_missing_container_with_existing_mounts) {
  Fixture f;
  f.engine->answer = [](const Call& c) { return standard(c, "", ""); };
  // Two starts at once share one.
  bool first = false;
  f.crews->ensure("c1", [&](Result<std::string> id) { first = id.ok(); });
  auto id = f.ensure();
  cr_assert(first);
  cr_assert(id.ok(), "%s", id.ok() ? "" : id.problem().detail.c_str());
  cr_assert_str_eq(id->c_str(), "new");
  auto m = f.methods();
  cr_assert_eq(m.size(), 3u);
  cr_assert_str_eq(m[0].c_str(), "GET /containers/json");
  cr_assert_str_eq(m[1].c_str(), "POST /containers/create");
  cr_assert_str_eq(m[2].c_str(), "POST /containers/new/start");
  cr_assert(f.engine->calls[1].path.ends_with("name=crewship-team-crew-c1"));
  cr_assert(std::filesystem::is_directory(f.storage), "the storage exists before the create");
  rapidjson::Document body;
  body.Parse(f.engine->calls[1].body.c_str());
  const auto& binds = body["HostConfig"]["Binds"];
  std::string want[] = {f.storage + ":/output", f.config.socket_path + ":/run/crewship/crewship.sock",
                        f.config.hook_binary + ":/usr/local/bin/crewship-hook:ro"};
  for (int i = 0; i < 3; ++i) cr_assert_str_eq(binds[i].GetString(), want[i].c_str());
  cr_assert(body["HostConfig"].HasMember("GroupAdd"), "the socket's group");
  cr_assert_str_eq(body["Env"][0].GetString(), "CREWSHIP_INTERNAL_TOKEN=token-w1-c1");
  cr_assert_str_eq(body["Labels"]["crewship.crew_id"].GetString(), "c1");
}

Test(crew_service, keeps_a_running_container_with_its_mounts) {
  Fixture f;
  std::string inspect = f.inspected("running", "", f.storage);
  f.engine->answer = [&](const Call& c) { return standard(c, R"({"Id":"old","State":"running"})", inspect); };
  auto id = f.ensure();
  cr_assert(id.ok());
  cr_assert_str_eq(id->c_str(), "old");
  cr_assert_eq(f.methods().size(), 2u, "list and inspect, nothing else");
  auto again = f.ensure();
  cr_assert(again.ok());
  cr_assert_eq(f.methods().size(), 3u, "its mounts are not inspected again");
}

Test(crew_service, remakes_a_container_with_other_mounts) {
  Fixture f;
  std::string inspect = f.inspected("created", "", "/elsewhere");
  f.engine->answer = [&](const Call& c) { return standard(c, R"({"Id":"old","State":"created"})", inspect); };
  auto id = f.ensure();
  cr_assert(id.ok());
  cr_assert_str_eq(id->c_str(), "new");
  auto m = f.methods();
  cr_assert_eq(m.size(), 5u);
  cr_assert_str_eq(m[2].c_str(), "DELETE /containers/old");
  cr_assert(f.engine->calls[2].path.ends_with("?force=1"));
  cr_assert_str_eq(m[3].c_str(), "POST /containers/create");
  cr_assert_eq(f.reports.size(), 1u, "the daemon hears of it");
}

// A container made again gets a token of the next generation; one whose
// token is no longer the crew's current one (rotated) is made again.
Test(crew_service, remade_containers_get_a_new_token) {
  Fixture f;
  std::string inspect = f.inspected("created", "", "/elsewhere");
  f.engine->answer = [&](const Call& c) { return standard(c, R"({"Id":"old","State":"created"})", inspect); };
  cr_assert(f.ensure().ok());
  rapidjson::Document body;
  body.Parse(f.engine->calls[3].body.c_str());
  cr_assert_str_eq(body["Env"][0].GetString(), "CREWSHIP_INTERNAL_TOKEN=token-w1-c1-g1");

  Fixture g;
  std::string stale = g.inspected("running", "", g.storage, "token-w1-c1-g7");
  g.engine->answer = [&](const Call& c) { return standard(c, R"({"Id":"old","State":"running"})", stale); };
  auto id = g.ensure();
  cr_assert(id.ok());
  cr_assert_str_eq(id->c_str(), "new");
  auto m = g.methods();
  cr_assert_str_eq(m[2].c_str(), "DELETE /containers/old");
  cr_assert(g.reports.size() == 1 && g.reports[0].find("revoked token") != std::string::npos);
}

Test(crew_service, remakes_a_container_that_failed_to_start) {
  Fixture f;
  std::string inspect = f.inspected("created", "exec: permission denied", f.storage);
  f.engine->answer = [&](const Call& c) { return standard(c, R"({"Id":"old","State":"created"})", inspect); };
  auto id = f.ensure();
  cr_assert_str_eq(id->c_str(), "new");
  auto m = f.methods();
  cr_assert_str_eq(m[2].c_str(), "DELETE /containers/old");
}

Test(crew_service, remakes_a_container_whose_start_is_refused) {
  Fixture f;
  std::string inspect = f.inspected("exited", "", f.storage);
  f.engine->answer = [&](const Call& c) {
    if (c.path == "/containers/old/start") return reply(500, R"({"message":"not a directory"})");
    return standard(c, R"({"Id":"old","State":"exited"})", inspect);
  };
  auto id = f.ensure();
  cr_assert_str_eq(id->c_str(), "new");
  auto m = f.methods();
  cr_assert_eq(m.size(), 6u);
  cr_assert_str_eq(m[2].c_str(), "POST /containers/old/start");
  cr_assert_str_eq(m[3].c_str(), "DELETE /containers/old");
  cr_assert_str_eq(m[5].c_str(), "POST /containers/new/start");
}

Test(crew_service, never_binds_a_missing_path) {
  Fixture f;
  f.engine->answer = [](const Call& c) { return standard(c, "", ""); };
  std::filesystem::remove(f.config.hook_binary);
  std::filesystem::create_directory(f.config.hook_binary);  // what an engine leaves
  auto id = f.ensure();
  cr_assert_not(id.ok());
  cr_assert_eq(id.problem().status, 500);
  cr_assert(id.problem().cause.find(f.config.hook_binary) != std::string::npos, "the log names the path");
  cr_assert_eq(f.methods().size(), 1u, "no create");

  f.engine->calls.clear();
  unlink(f.config.socket_path.c_str());
  auto again = f.ensure();
  cr_assert_not(again.ok());
  cr_assert(again.problem().cause.find(f.config.socket_path) != std::string::npos, "the log names the path");
  cr_assert_eq(f.methods().size(), 1u, "no create");
}

Test(crew_service, engine_failures_are_problems) {
  Fixture f;
  f.engine->answer = [](const Call&) {
    EngineReply r;
    r.err = UV_ETIMEDOUT;
    return r;
  };
  auto id = f.ensure();
  cr_assert_not(id.ok());
  cr_assert_eq(id.problem().status, 502);
  cr_assert(id.problem().detail.find("did not answer in time") != std::string::npos);
  Status st;
  f.crews->shared_exec("k", {}, [&](Status s, const container::ExecResult&) { st = std::move(s); });
  cr_assert_not(st.ok());
  cr_assert_eq(st.problem().status, 503, "over the cap");
  cr_assert_eq(st.problem().retry_after_s, 1);
}

Test(crew_service, a_missing_crew_is_a_404) {
  Fixture f;
  f.engine->answer = [](const Call& c) { return standard(c, "", ""); };
  bool done = false;
  int status = 0;
  f.crews->ensure("nope", [&](Result<std::string> id) {
    status = id.ok() ? 200 : id.problem().status;
    done = true;
  });
  f.wait(done);
  cr_assert_eq(status, 404);
}

Test(crew_service, agent_dirs_are_made_off_the_loop) {
  Fixture f;
  store::AgentRef agent;
  agent.id = "a1";
  agent.crew_id = "c1";
  agent.slug = "coder";
  bool done = false;
  Status st;
  f.crews->prepare_agent_dir(agent, [&](Status s) {
    st = std::move(s);
    done = true;
  });
  cr_assert_not(done, "answered later, from the thread pool");
  f.wait(done);
  if (geteuid() == 0) cr_assert(st.ok());
  cr_assert(std::filesystem::is_directory(f.storage + "/coder"));
}
