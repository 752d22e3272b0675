// Chats with an agent and their messages:
//   POST /api/v1/agents/{agentId}/chats {title?} (create) -> 201 the chat
//   GET  /api/v1/agents/{agentId}/chats            newest first (read)
//   GET  /api/v1/chats/{chatId}/messages?offset=&limit= (signed in; the
//        workspace comes from the chat row and the caller must be a member;
//        on the socket, within the token's scope)
//   POST /api/v1/internal/chats/{chatId}/messages {role, content} -> 201 {id, seq}
// A page of messages is a seek on (chat_id, seq): seq is dense, so offset N
// starts at seq N+1 and no page costs more than its own rows.
#include "api/agent_ref.h"
#include "api/common.h"
#include "api/routes.h"
#include "daemon/ids.h"
#include "store/agent_store.h"
#include "store/chat_store.h"
#include "store/workspace_store.h"

namespace crewship::api {
namespace {

constexpr int64_t kMaxContentBytes = 256 << 10;

void write_chat(json::Out& out, const store::Chat& c) {
  out.begin_object();
  out.member("id", c.id);
  out.member("agent_id", c.agent_id);
  out.member("workspace_id", c.workspace_id);
  nullable(out, "title", c.title);
  out.member("created_at", c.created_at);
  out.end_object();
}

void reply_messages(const ExchangePtr& ex, const std::vector<store::Message>& messages) {
  json::Out out;
  out.begin_object();
  out.key("messages");
  out.begin_array();
  for (const store::Message& m : messages) {
    out.begin_object();
    out.member("id", m.id);
    out.member("seq", m.seq);
    out.member("role", m.role);
    out.member("content", m.content);
    out.member("created_at", m.created_at);
    out.end_object();
  }
  out.end_array();
  out.end_object();
  reply(ex, 200, out);
}

// An internal token's scope: its workspace and crew, when it is bound to
// them (the master token's are empty: every chat).
bool in_scope(std::string_view workspace, std::string_view crew, const store::ChatRef& chat) {
  return (workspace.empty() || chat.workspace_id == workspace) && (crew.empty() || chat.crew_id == crew);
}
bool in_token_scope(const Exchange& ex, const store::ChatRef& chat) {
  return in_scope(ex.who.workspace_id, ex.who.crew_id, chat);
}

}  // namespace

// POST /api/v1/agents/{agentId}/chats?workspace_id=
void create_chat(App& app, const ExchangePtr& ex) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return;
  json::Field<std::string> title;
  json::Reader r(doc);
  r.string("title", &title, {.min = 0, .max = 200});
  if (!r.ok()) return reply_problem(ex, 400, r.error());
  store::Chat chat;
  chat.id = new_id();
  chat.agent_id = ex->req.param("agentId");
  chat.workspace_id = ex->who.workspace_id;
  if (title.has_value() && !title.value.empty()) chat.title = title.value;
  chat.created_at = now_rfc3339();
  submit(
      app,
      [chat, audit = audit_of(*ex, "chat.create", "chat", chat.id, details_of({{"agent_id", chat.agent_id}}))](
          store::Connection& w) -> Status {
        if (auto a = store::find_agent(w, chat.agent_id, chat.workspace_id, ""); !a) return std::move(a).take_problem();
        if (auto st = store::insert_chat(w, chat); !st) return st;
        return store::insert_audit(w, audit);
      },
      [ex, chat](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        json::Out out;
        write_chat(out, chat);
        reply(ex, 201, out);
      });
}

// GET /api/v1/agents/{agentId}/chats?workspace_id=
void list_chats(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  AgentRef agent;
  if (!find_agent(app, ex, &agent)) return;
  reply_list(ex, store::list_chats(app.store.reader(), agent.id, page.limit, page.offset), write_chat);
}

// GET /api/v1/chats/{chatId}/messages?offset=&limit= (default 50, clamped to 500)
void list_chat_messages(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 500, &page)) return;
  store::Connection& c = app.store.reader();
  auto chat = store::find_chat(c, ex->req.param("chatId"));
  if (!chat) return reply_problem(ex, chat.problem());
  if (!*chat) return reply_messages(ex, {});  // a new session before its first message
  if (ex->who.kind == Principal::Kind::kInternal) {
    if (!in_token_scope(*ex, **chat)) return reply_problem(ex, 403, "this token may not read chats of that agent");
  } else {
    auto role = store::member_role(c, (*chat)->workspace_id, ex->who.user_id);
    if (!role) {
      if (role.problem().status != 404) return reply_problem(ex, role.problem());
      return reply_problem(ex, 403, "not a member of this chat's workspace");
    }
  }
  auto messages = store::list_messages(c, (*chat)->id, page.offset, page.limit);
  if (!messages) return reply_problem(ex, messages.problem());
  reply_messages(ex, *messages);
}

// POST /api/v1/internal/chats/{chatId}/messages {role, content}: a bound
// token may only append to chats of agents in its scope (403 otherwise).
void append_chat_message(App& app, const ExchangePtr& ex) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return;
  json::Field<std::string> role, content;
  json::Reader r(doc);
  r.one_of("role", &role, {"user", "assistant", "system", "tool"}, {.required = true, .nullable = false})
      .string("content", &content, {.min = 0, .max = kMaxContentBytes, .required = true, .nullable = false});
  if (!r.ok()) return reply_problem(ex, 400, r.error());
  if (static_cast<int64_t>(content.value.size()) > kMaxContentBytes)
    return reply_problem(ex, 400, "content must be at most 256 KiB");
  store::Message m;
  m.id = new_id();
  m.role = role.value;
  m.content = std::move(content.value);
  m.created_at = now_rfc3339();
  submit(
      app,
      [m = std::move(m), chat_id = std::string(ex->req.param("chatId")), workspace = ex->who.workspace_id,
       crew = ex->who.crew_id](store::Connection& w) -> Result<store::Message> {
        auto chat = store::find_chat(w, chat_id);
        if (!chat) return std::move(chat).take_problem();
        if (!*chat) return fail(404, "chat not found");
        if (!in_scope(workspace, crew, **chat)) return fail(403, "this token may not write to chats of that agent");
        auto seq = store::append_message(w, chat_id, m);
        if (!seq) return std::move(seq).take_problem();
        store::Message out;
        out.id = m.id;
        out.seq = *seq;
        return out;
      },
      [ex](Result<store::Message> done) {
        if (!done) return reply_problem(ex, done.problem());
        json::Out out;
        out.begin_object();
        out.member("id", done->id);
        out.member("seq", done->seq);
        out.end_object();
        reply(ex, 201, out);
      });
}

}  // namespace crewship::api
