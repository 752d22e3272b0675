// Persona layers: the agent's PERSONA.md, else its crew's default, else a
// stub made from the agent's role. Operators write the layers; an agent
// proposes changes through persona_suggest.cc. The files are on disk (see
// memory_files.h), their versions in memory_versions.
#include "api/persona.h"

#include "api/common.h"
#include "api/memory_files.h"
#include "api/routes.h"
#include "daemon/ids.h"
#include "store/agent_store.h"
#include "store/crew_store.h"

namespace crewship::api {
namespace {

// A layer written by another hand is read as long as it is not absurd.
constexpr size_t kReadMaxBytes = 64 << 10;

// The synthesised default, when neither layer exists.
std::string default_persona(const store::PersonaAgent& a) {
  std::string title = a.role_title.value_or(a.name);
  std::string out = "You are the " + title + ".";
  out += a.agent_role == "LEAD" ? " You lead your crew: plan the work, split it and hand it out."
                                : " You take tasks from your crew and carry them out in your own workspace.";
  return out + "\n";
}

void reply_layer(const ExchangePtr& ex, std::string_view id_key, std::string_view id, std::string_view layer,
                 bool from_default, std::string_view content) {
  json::Out out;
  out.begin_object();
  out.member(id_key, id);
  out.member("layer", layer);
  out.member("from_default", from_default);
  out.member("content", content);
  out.member("bytes", static_cast<int64_t>(content.size()));
  out.member("cap_bytes", kPersonaCapBytes);
  out.end_object();
  reply(ex, 200, out);
}

void reply_written(const ExchangePtr& ex, std::string_view layer, const Result<store::MemoryVersion>& v) {
  if (!v) return reply_problem(ex, v.problem());
  json::Out out;
  out.begin_object();
  out.member("layer", layer);
  out.member("bytes", v->bytes);
  out.member("updated", v->written_at);
  out.end_object();
  reply(ex, 200, out);
}

// Direct writes are for operators: an agent's token proposes instead.
bool refuse_agents(const ExchangePtr& ex) {
  if (ex->who.kind != Principal::Kind::kInternal) return false;
  reply_problem(ex, 403, "the persona is written by operators only; propose a change with POST .../persona/suggest");
  return true;
}

// The version row and audit of a layer write, after checking that owner
// (the agent or crew) is still there.
RecordChange record_write(std::string path, std::string written_by, store::AuditEntry audit,
                          std::function<Status(store::Connection&)> still_there,
                          std::shared_ptr<store::MemoryVersion> version) {
  return [=](store::Connection& w, const StagedFile& f) -> Status {
    if (auto st = still_there(w); !st) return st;
    auto v = store::append_memory_version(w, path, f.sha256, f.bytes, written_by, now_rfc3339());
    if (!v) return std::move(v).take_problem();
    *version = *v;
    store::AuditEntry a = audit;
    a.details = "{\"bytes\":" + std::to_string(f.bytes) + ",\"sha256\":\"" + f.sha256 + "\"}";
    return store::insert_audit(w, a);
  };
}

void write_layer(App& app, std::string path, std::string content, std::string written_by, store::AuditEntry audit,
                 std::function<Status(store::Connection&)> still_there,
                 std::function<void(Result<store::MemoryVersion>)> done) {
  auto version = std::make_shared<store::MemoryVersion>();
  change_memory_file(app, path, std::move(content),
                     record_write(path, std::move(written_by), std::move(audit), std::move(still_there), version),
                     [version, done = std::move(done)](Status st) {
                       if (!st) return done(st.problem());
                       done(*version);
                     });
}

std::function<Status(store::Connection&)> agent_still_there(const store::PersonaAgent& a, WriteCheck allowed = nullptr) {
  return [id = a.id, ws = a.workspace_id, allowed = std::move(allowed)](store::Connection& w) -> Status {
    auto found = store::find_persona_agent(w, id, ws);
    if (!found) return std::move(found).take_problem();
    return allowed ? allowed(*found) : Status{};
  };
}

std::function<Status(store::Connection&)> crew_still_there(const store::CrewRef& c) {
  return [id = c.id, ws = c.workspace_id](store::Connection& w) -> Status {
    auto found = store::find_crew(w, id, ws);
    if (!found) return std::move(found).take_problem();
    return {};
  };
}

void remove_layer(App& app, const ExchangePtr& ex, std::string path, store::AuditEntry audit,
                  std::function<Status(store::Connection&)> still_there) {
  change_memory_file(
      app, std::move(path), std::nullopt,
      [audit = std::move(audit), still_there = std::move(still_there)](store::Connection& w, const StagedFile&) {
        return audited(w, still_there(w), audit);
      },
      [ex](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        reply_no_content(ex);
      });
}

bool find_crew_of_route(App& app, const ExchangePtr& ex, store::CrewRef* out) {
  auto crew = store::find_crew(app.store.reader(), ex->req.param("crewId"), ex->who.workspace_id);
  if (!crew) {
    reply_problem(ex, crew.problem());
    return false;
  }
  *out = std::move(crew).value();
  return true;
}

}  // namespace

bool find_persona_agent(App& app, const ExchangePtr& ex, store::PersonaAgent* out) {
  auto a = store::find_persona_agent(app.store.reader(), ex->req.param("agentId"), ex->who.workspace_id);
  if (!a) {
    reply_problem(ex, a.problem());
    return false;
  }
  if (!ex->who.crew_id.empty() && a->crew_id != ex->who.crew_id) {
    reply_problem(ex, 403, "this token may not act for that agent");
    return false;
  }
  *out = std::move(a).value();
  return true;
}

bool read_persona_content(const ExchangePtr& ex, rapidjson::Document* doc, std::string* content) {
  if (!read_json(ex, doc)) return false;
  json::Field<std::string> c;
  json::Reader in(*doc);
  in.string("content", &c, {.max = 1 << 20, .required = true, .nullable = false});
  if (!in.ok()) {
    reply_problem(ex, 400, in.error());
    return false;
  }
  if (c.value.empty()) {
    reply_problem(ex, 400, "content must not be empty");
    return false;
  }
  if (static_cast<int64_t>(c.value.size()) > kPersonaCapBytes) {
    reply_problem(ex, 413, "content is larger than the persona cap of " + std::to_string(kPersonaCapBytes) + " bytes");
    return false;
  }
  *content = std::move(c.value);
  return true;
}

void write_agent_layer(App& app, const store::PersonaAgent& agent, std::string content, std::string written_by,
                       store::AuditEntry audit, std::function<void(Result<store::MemoryVersion>)> done,
                       WriteCheck allowed) {
  write_layer(app, agent_persona_path(agent.id), std::move(content), std::move(written_by), std::move(audit),
              agent_still_there(agent, std::move(allowed)), std::move(done));
}

// GET /api/v1/agents/{agentId}/persona: {agent_id, layer, from_default,
// content, bytes, cap_bytes}; the stub reports layer "crew".
void get_persona(App& app, const ExchangePtr& ex) {
  store::PersonaAgent a;
  if (!find_persona_agent(app, ex, &a)) return;
  std::vector<std::string> paths{agent_persona_path(a.id)};
  if (!a.crew_id.empty()) paths.push_back(crew_persona_path(a.crew_id));
  read_memory_file(app, std::move(paths), kReadMaxBytes, [ex, a](Result<FoundFile> f) {
    if (!f) return reply_problem(ex, f.problem());
    if (f->index < 0) return reply_layer(ex, "agent_id", a.id, "crew", true, default_persona(a));
    reply_layer(ex, "agent_id", a.id, f->index == 0 ? "agent" : "crew", false, f->content);
  });
}

// PUT /api/v1/agents/{agentId}/persona {content}: the agent's layer;
// {layer, bytes, updated}. An agent's token gets 403.
void put_persona(App& app, const ExchangePtr& ex) {
  if (refuse_agents(ex)) return;
  store::PersonaAgent a;
  if (!find_persona_agent(app, ex, &a)) return;
  rapidjson::Document doc;
  std::string content;
  if (!read_persona_content(ex, &doc, &content)) return;
  write_agent_layer(app, a, std::move(content), ex->who.user_id, audit_of(*ex, "persona.write", "agent", a.id),
                    [ex](Result<store::MemoryVersion> v) { reply_written(ex, "agent", v); });
}

// DELETE /api/v1/agents/{agentId}/persona: removes the agent's layer; 204,
// also when there was none.
void delete_persona(App& app, const ExchangePtr& ex) {
  store::PersonaAgent a;
  if (!find_persona_agent(app, ex, &a)) return;
  remove_layer(app, ex, agent_persona_path(a.id),
               audit_of(*ex, "persona.reset", "agent", a.id, details_of({{"layer", "agent"}})), agent_still_there(a));
}

// GET /api/v1/agents/{agentId}/persona/history?limit=&offset=: {entries:
// [{id, sha256, bytes, written_at, written_by, parent_sha}]}, newest first,
// no content; parent_sha omitted on the first version.
void persona_history(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 20, 100, &page)) return;
  store::PersonaAgent a;
  if (!find_persona_agent(app, ex, &a)) return;
  auto versions = store::list_memory_versions(app.store.reader(), agent_persona_path(a.id), page.limit, page.offset);
  if (!versions) return reply_problem(ex, versions.problem());
  json::Out out;
  out.begin_object();
  out.key("entries");
  out.begin_array();
  for (const store::MemoryVersion& v : *versions) {
    out.begin_object();
    out.member("id", v.id);
    out.member("sha256", v.sha256);
    out.member("bytes", v.bytes);
    out.member("written_at", v.written_at);
    out.member("written_by", v.written_by);
    if (v.parent_sha) out.member("parent_sha", *v.parent_sha);
    out.end_object();
  }
  out.end_array();
  out.end_object();
  reply(ex, 200, out);
}

// GET /api/v1/crews/{crewId}/persona: the crew's default layer, {crew_id,
// layer: "crew", from_default, content, bytes, cap_bytes}; from_default and
// an empty content while none is set.
void get_crew_persona(App& app, const ExchangePtr& ex) {
  store::CrewRef crew;
  if (!find_crew_of_route(app, ex, &crew)) return;
  read_memory_file(app, {crew_persona_path(crew.id)}, kReadMaxBytes, [ex, id = crew.id](Result<FoundFile> f) {
    if (!f) return reply_problem(ex, f.problem());
    reply_layer(ex, "crew_id", id, "crew", f->index < 0, f->content);
  });
}

// PUT /api/v1/crews/{crewId}/persona {content}: {layer: "crew", bytes, updated}.
void put_crew_persona(App& app, const ExchangePtr& ex) {
  store::CrewRef crew;
  if (!find_crew_of_route(app, ex, &crew)) return;
  rapidjson::Document doc;
  std::string content;
  if (!read_persona_content(ex, &doc, &content)) return;
  write_layer(app, crew_persona_path(crew.id), std::move(content), ex->who.user_id,
              audit_of(*ex, "persona.write", "crew", crew.id), crew_still_there(crew),
              [ex](Result<store::MemoryVersion> v) { reply_written(ex, "crew", v); });
}

// DELETE /api/v1/crews/{crewId}/persona: 204, also when there was none.
void delete_crew_persona(App& app, const ExchangePtr& ex) {
  store::CrewRef crew;
  if (!find_crew_of_route(app, ex, &crew)) return;
  remove_layer(app, ex, crew_persona_path(crew.id),
               audit_of(*ex, "persona.reset", "crew", crew.id, details_of({{"layer", "crew"}})), crew_still_there(crew));
}

}  // namespace crewship::api
