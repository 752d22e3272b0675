// Chats with an agent and their messages:
//   POST /api/v1/agents/{agentId}/chats {title?} (create) -> 201 the chat
//   GET  /api/v1/agents/{agentId}/chats            newest first (read)
//   GET  /api/v1/chats/{chatId}/messages?offset=&limit= (signed in; the
//        workspace comes from the chat row and the caller must be a member;
//        on the socket, within the token's scope)
//   POST /api/v1/internal/chats/{chatId}/messages {role, content} -> 201 {id, seq}
// Both appends (the IPC one and /ws chat.send, which start_chats plugs in as
// Hub::append_chat) take one path: checked, stored through the writer, then
// published to the chat's subscribers and the workspace's events.
// A page of messages is a seek on (chat_id, seq): seq is dense, so offset N
// starts at seq N+1 and no page costs more than its own rows.
#include "api/agent_ref.h"
#include "api/common.h"
#include "api/realtime.h"
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

std::string message_json(const store::Message& m) {
  json::Out out;
  out.begin_object();
  out.member("id", m.id);
  out.member("seq", m.seq);
  out.member("role", m.role);
  out.member("content", m.content);
  out.member("created_at", m.created_at);
  out.end_object();
  return out.take();
}

void reply_messages(const ExchangePtr& ex, const std::vector<store::Message>& messages) {
  json::Out out;
  out.begin_object();
  out.key("messages");
  out.begin_array();
  for (const store::Message& m : messages) {
    std::string one = message_json(m);
    out.w().RawValue(one.data(), one.size(), rapidjson::kObjectType);
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

namespace {

// Who stores a message: an internal token's scope (workspace and crew, empty
// for the master token), or a signed-in user, who must be a member of the
// chat's workspace when the writer runs.
struct Writer {
  std::string workspace_id, crew_id, user_id;
};

struct Stored {
  store::ChatRef chat;
  store::Message message;
};

// The one path of a new message (the IPC append and /ws chat.send): stored
// through the writer, then, once committed, published to the chat's
// subscribers and the workspace's events; done gets it or the problem.
void store_message(App& app, Writer who, std::string chat_id, std::string role, std::string content,
                   std::function<void(Result<Stored>)> done) {
  if (static_cast<int64_t>(content.size()) > kMaxContentBytes)
    return done(fail(400, "content must be at most 256 KiB"));
  store::Message m;
  m.id = new_id();
  m.role = std::move(role);
  m.content = std::move(content);
  m.created_at = now_rfc3339();
  submit(
      app,
      [m = std::move(m), chat_id = std::move(chat_id), who = std::move(who)](store::Connection& w) -> Result<Stored> {
        auto chat = store::find_chat(w, chat_id);
        if (!chat) return std::move(chat).take_problem();
        if (!*chat) return fail(404, "chat not found");
        if (!in_scope(who.workspace_id, who.crew_id, **chat))
          return fail(403, "this token may not write to chats of that agent");
        if (!who.user_id.empty()) {
          auto role = store::member_role(w, (*chat)->workspace_id, who.user_id);
          if (!role && role.problem().status == 404) return fail(403, "not a member of this chat's workspace");
          if (!role) return std::move(role).take_problem();
        }
        auto seq = store::append_message(w, chat_id, m);
        if (!seq) return std::move(seq).take_problem();
        Stored out{std::move(**chat), m};
        out.message.seq = *seq;
        return out;
      },
      [&app, done = std::move(done)](Result<Stored> stored) {
        if (stored) {
          publish_chat_message(app, stored->chat.workspace_id, stored->chat.crew_id, stored->chat.id,
                               message_json(stored->message));
        }
        done(std::move(stored));
      });
}

}  // namespace

void start_chats(App& app) {
  app.hub->append_chat = [](App& app, const Principal& who, const std::string& chat_id, std::string content,
                            std::function<void(Result<std::string>)> done) {
    Writer w;
    if (who.kind == Principal::Kind::kInternal) {
      w.workspace_id = who.workspace_id;
      w.crew_id = who.crew_id;
    } else {
      w.user_id = who.user_id;
    }
    store_message(app, std::move(w), chat_id, "user", std::move(content),
                  [done = std::move(done)](Result<Stored> stored) {
                    if (!stored) return done(std::move(stored).take_problem());
                    done(message_json(stored->message));
                  });
  };
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
  store_message(app, Writer{ex->who.workspace_id, ex->who.crew_id, {}}, std::string(ex->req.param("chatId")),
                role.value, std::move(content.value), [ex](Result<Stored> done) {
                  if (!done) return reply_problem(ex, done.problem());
                  json::Out out;
                  out.begin_object();
                  out.member("id", done->message.id);
                  out.member("seq", done->message.seq);
                  out.end_object();
                  reply(ex, 201, out);
                });
}

}  // namespace crewship::api
