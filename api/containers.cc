// A crew's container, public and on the IPC socket:
//   POST .../crews/{crewId}/container/start   creates (when missing) and starts it
//   POST .../crews/{crewId}/container/stop    stops it (the engine's grace, then KILL)
//   GET  .../crews/{crewId}/container/status
//   POST /api/v1/crews/{crewId}/rotate-token  (public only) revokes its tokens
// Each container route answers the container's state as the engine reports it afterwards.
#include "api/bridge.h"
#include "api/common.h"
#include "api/routes.h"
#include "store/crew_store.h"

namespace crewship::api {
namespace {

// The live crew of {crewId} within the caller's scope; 404 otherwise, 500
// when the store fails.
bool find_crew(App& app, const ExchangePtr& ex, std::string* crew_id) {
  auto crew = store::find_crew(app.store.reader(), ex->req.param("crewId"), ex->who.workspace_id, ex->who.crew_id);
  if (!crew) {
    reply_problem(ex, crew.problem());
    return false;
  }
  *crew_id = std::move(crew->id);
  return true;
}

void reply_status(App& app, const ExchangePtr& ex, const std::string& crew_id) {
  crews(app).inspect(crew_id, [&app, ex, crew_id](Result<CrewContainer> found) {
    if (!found) return reply_problem(ex, found.problem());
    const CrewContainer& c = *found;
    json::Out out;
    out.begin_object();
    out.member("crew_id", crew_id);
    out.key("container_id");
    if (c.id.empty()) {
      out.w().Null();
    } else {
      out.str(c.id);
    }
    out.member("name", c.name);
    out.member("state", c.state);
    out.member("status", c.status);
    out.member("image", c.image.empty() ? app.config.sandbox_image : c.image);
    out.member("engine", app.engine.name);
    out.end_object();
    reply(ex, 200, out);
  });
}

}  // namespace

// POST /api/v1/crews/{crewId}/container/start
void start_crew_container(App& app, const ExchangePtr& ex) {
  if (!bridge_open(app, ex)) return;
  std::string crew_id;
  if (!find_crew(app, ex, &crew_id)) return;
  crews(app).ensure(crew_id, [&app, ex, crew_id](Result<std::string> id) {
    if (!id) return reply_problem(ex, id.problem());
    reply_status(app, ex, crew_id);
  });
}

// POST /api/v1/crews/{crewId}/container/stop
void stop_crew_container(App& app, const ExchangePtr& ex) {
  if (!bridge_open(app, ex)) return;
  std::string crew_id;
  if (!find_crew(app, ex, &crew_id)) return;
  crews(app).inspect(crew_id, [&app, ex, crew_id](Result<CrewContainer> c) {
    if (!c) return reply_problem(ex, c.problem());
    if (c->id.empty()) return reply_status(app, ex, crew_id);
    // The engine gives the container CREWSHIP_STOP_GRACE (in whole seconds)
    // before KILL: the call may take that long.
    int64_t grace_s = (app.config.stop_grace_ms + 999) / 1000;
    bool ok = crews(app).engine().call(
        "POST", "/containers/" + c->id + "/stop?t=" + std::to_string(grace_s), {}, crew_id,
        [&app, ex, crew_id](container::EngineReply&& r) {
          if (r.err != 0 || (r.status != 204 && r.status != 304 && r.status != 404))
            return reply_problem(ex, reply_failure(r, "stop"));
          crews(app).forget_running(crew_id);
          reply_status(app, ex, crew_id);
        },
        static_cast<uint64_t>(app.config.engine_timeout_ms + grace_s * 1000));
    if (!ok) reply_problem(ex, engine_failure(UV_EBUSY, "stop"));
  });
}

// GET /api/v1/crews/{crewId}/container/status
void crew_container_status(App& app, const ExchangePtr& ex) {
  if (!bridge_open(app, ex)) return;
  std::string crew_id;
  if (find_crew(app, ex, &crew_id)) reply_status(app, ex, crew_id);
}

// POST /api/v1/crews/{crewId}/rotate-token (ADMIN and up): moves the crew's
// token generation on, so every crew-bound token it had gets 401 from now
// on. The crew's container keeps the old one in its environment until it is
// made again, which the next container/start does (it finds the token
// revoked); until then the container's hooks are refused.
void rotate_crew_token(App& app, const ExchangePtr& ex) {
  std::string crew_id;
  if (!find_crew(app, ex, &crew_id)) return;
  auto now = std::make_shared<int64_t>(0);
  submit(
      app, [crew_id, now](store::Connection& w) { return store::bump_token_generation(w, crew_id, now.get()); },
      [&app, ex, crew_id, now](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        if (app.bridge) crews(app).token_rotated(crew_id);
        json::Out out;
        out.begin_object();
        out.member("id", crew_id);
        out.member("token_generation", *now);
        out.end_object();
        reply(ex, 200, out);
      });
}

}  // namespace crewship::api
