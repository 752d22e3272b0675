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
#include "ipc/routes.h"
#include "store/presence_store.h"

namespace crewship::ipc {
namespace {

using api::reply;
using api::reply_problem;

constexpr size_t kMaxDetails = 16 * 1024;
constexpr size_t kMaxHeartbeat = 1000;


struct AgentScope {
  std::string workspace_id, crew_id;
};

// Finds a live agent and checks the caller's token may act on it: 404 when
// there is no such agent, 403 when it lies outside the token's scope.
bool agent_in_scope(App& app, const ExchangePtr& ex, std::string_view agent_id, AgentScope* out) {
  auto s = app.store.reader().prepare(
      "SELECT workspace_id, coalesce(crew_id, '') FROM agents WHERE id = ?1 AND deleted_at IS NULL");
  s.bind(1, agent_id);
  if (s.step() != SQLITE_ROW) {
    reply_problem(ex, 404, "agent not found");
    return false;
  }
  out->workspace_id = s.text(0);
  out->crew_id = s.text(1);
  const Principal& who = ex->who;
  if ((!who.workspace_id.empty() && who.workspace_id != out->workspace_id) ||
      (!who.crew_id.empty() && who.crew_id != out->crew_id)) {
    reply_problem(ex, 403, "agent is outside this token's scope");
    return false;
  }
  return true;
}

}  // namespace

void presence_upsert(App& app, const ExchangePtr& ex) {
  rapidjson::Document doc;
  if (!api::read_json(ex, &doc)) return;
  json::Field<std::string> agent_id, status;
  json::Reader r(doc);
  r.string("agent_id", &agent_id, {.min = 1, .max = 128, .required = true, .nullable = false})
      .one_of("status", &status, {"online", "busy", "blocked", "offline"},
              {.required = true, .nullable = false});
  if (!r.ok()) return reply_problem(ex, 400, r.error());

  auto w = std::make_shared<store::PresenceWrite>();
  if (auto d = doc.FindMember("details"); d != doc.MemberEnd() && !d->value.IsNull()) {
    if (!d->value.IsObject()) return reply_problem(ex, 400, "details must be a JSON object");
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> out(buf);
    d->value.Accept(out);
    if (buf.GetSize() > kMaxDetails) return reply_problem(ex, 413, "details larger than 16 KiB");
    if (d->value.MemberCount() > 0) w->details.assign(buf.GetString(), buf.GetSize());
    w->error = d->value.HasMember("error");
  }
  AgentScope scope;
  if (!agent_in_scope(app, ex, agent_id.value, &scope)) return;
  w->agent_id = std::move(agent_id.value);
  w->workspace_id = std::move(scope.workspace_id);
  w->crew_id = std::move(scope.crew_id);
  w->status = std::move(status.value);
  w->since = now_rfc3339_nanos();
  w->now_ms = now_ms();
  auto result = std::make_shared<store::PresenceResult>();
  api::write(
      app, [w, result](store::Connection& c) { return store::write_presence(c, *w, result.get()); },
      [&app, ex, w, result](int rc) {
        if (rc != SQLITE_OK) return api::reply_store_error(ex, rc);
        app.presence_changed(w->workspace_id);
        json::Out out;
        out.begin_object();
        out.member("agent_id", w->agent_id);
        out.member("status", w->status);
        out.member("since", w->since);
        out.member("changed", result->changed);
        out.end_object();
        reply(ex, 200, out);
      });
}

void presence_heartbeat(App& app, const ExchangePtr& ex) {
  rapidjson::Document doc;
  if (!api::read_json(ex, &doc)) return;
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
    AgentScope scope;
    if (!agent_in_scope(app, ex, id, &scope)) return;
  }
  auto updated = std::make_shared<int>(0);
  int64_t at = now_ms();
  api::write(
      app, [ids, at, updated](store::Connection& c) { return store::heartbeat(c, *ids, at, updated.get()); },
      [ex, updated](int rc) {
        if (rc != SQLITE_OK) return api::reply_store_error(ex, rc);
        json::Out out;
        out.begin_object();
        out.member("updated", *updated);
        out.end_object();
        reply(ex, 200, out);
      });
}

}  // namespace crewship::ipc
