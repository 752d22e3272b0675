// Presence writes from the runtime and container hooks:
//   POST /api/v1/internal/presence            {agent_id, status, details?}
//   POST /api/v1/internal/presence/heartbeat  {agent_id} | {agent_ids: [...]}
// The scope of a bound token decides which agents it may touch; it never
// comes from the body. Answers leave after the write committed.
#include <ctime>
#include <memory>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "daemon/app.h"
#include "daemon/handler.h"
#include "daemon/ids.h"
#include "daemon/json_input.h"
#include "ipc/agent_scope.h"
#include "ipc/routes.h"
#include "store/agent_store.h"
#include "store/presence_service.h"

namespace crewship::ipc {
namespace {


constexpr size_t kMaxDetails = 16 * 1024;
constexpr size_t kMaxHeartbeat = 1000;


}  // namespace

void presence_upsert(App& app, const ExchangePtr& ex) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return;
  json::Field<std::string> agent_id, status;
  json::Reader r(doc);
  r.string("agent_id", &agent_id, {.min = 1, .max = 128, .required = true, .nullable = false})
      .one_of("status", &status, {"online", "busy", "blocked", "offline"},
              {.required = true, .nullable = false});
  if (!r.ok()) return reply_problem(ex, 400, r.error());

  store::PresenceUpdate u;
  if (auto d = doc.FindMember("details"); d != doc.MemberEnd() && !d->value.IsNull()) {
    if (!d->value.IsObject()) return reply_problem(ex, 400, "details must be a JSON object");
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> out(buf);
    d->value.Accept(out);
    if (buf.GetSize() > kMaxDetails) return reply_problem(ex, 413, "details larger than 16 KiB");
    if (d->value.MemberCount() > 0) u.details.assign(buf.GetString(), buf.GetSize());
    u.error = d->value.HasMember("error");
  }
  store::AgentRef agent;
  if (!agent_in_scope(app, ex, agent_id.value, &agent)) return;
  // One agent's journal is bounded however many tokens reach it; the
  // master token (the host's runtime) is not limited.
  if (!ex->who.workspace_id.empty()) {
    if (int64_t wait = app.ipc_agent_rate.take(agent.id, static_cast<int64_t>(uv_now(app.loop))); wait > 0)
      return reply_problem(ex, fail(429, "too many status writes for this agent; slow down",
                                    RateLimiter::retry_after(wait)));
  }
  u.agent_id = std::move(agent.id);
  u.workspace_id = std::move(agent.workspace_id);
  u.crew_id = std::move(agent.crew_id);
  u.status = std::move(status.value);
  app.presence.set(std::move(u), [ex](Status st, const store::PresenceChange& c) {
    if (!st) return reply_problem(ex, st.problem());
    json::Out out;
    out.begin_object();
    out.member("agent_id", c.agent_id);
    out.member("status", c.status);
    out.member("since", c.since);
    out.member("changed", c.transition);
    out.end_object();
    reply(ex, 200, out);
  });
}

void presence_heartbeat(App& app, const ExchangePtr& ex) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return;
  auto ids = std::make_shared<std::vector<std::string>>();
  auto one = doc.FindMember("agent_id");
  auto many = doc.FindMember("agent_ids");
  if (one != doc.MemberEnd()) {
    if (!one->value.IsString() || one->value.GetStringLength() == 0 || one->value.GetStringLength() > 128)
      return reply_problem(ex, 400, "agent_id must be a non-empty string");
    ids->emplace_back(one->value.GetString(), one->value.GetStringLength());
  } else if (many != doc.MemberEnd()) {
    if (!many->value.IsArray() || many->value.Empty() || many->value.Size() > kMaxHeartbeat)
      return reply_problem(ex, 400, "agent_ids must be an array of 1-1000 ids");
    for (const auto& v : many->value.GetArray()) {
      if (!v.IsString() || v.GetStringLength() == 0 || v.GetStringLength() > 128)
        return reply_problem(ex, 400, "agent_ids must hold non-empty strings");
      ids->emplace_back(v.GetString(), v.GetStringLength());
    }
  } else {
    return reply_problem(ex, 400, "agent_id or agent_ids is required");
  }
  for (const std::string& id : *ids) {
    store::AgentRef agent;
    if (!agent_in_scope(app, ex, id, &agent)) return;
  }
  app.presence.heartbeat(std::move(*ids), [ex](Result<int> updated) {
    if (!updated) return reply_problem(ex, updated.problem());
    json::Out out;
    out.begin_object();
    out.member("updated", *updated);
    out.end_object();
    reply(ex, 200, out);
  });
}

}  // namespace crewship::ipc
