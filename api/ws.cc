// GET /ws: the WebSocket endpoint, on the public listener with a ws-token
// (?token=, from GET /api/v1/ws-token) and on the IPC socket with
// X-Internal-Token. JSON text frames, one object each, "type" first.
//   client: subscribe / unsubscribe {channel, workspace_id, crew_id?,
//           agent_id?, offset?} or {channel: chat, chat_id}, chat.send
//           {chat_id, content}, ping
//   server: subscribed, unsubscribed, presence, log, event, error, pong
// Every subscription is authorized on its own: the user's membership of that
// workspace, or the internal token's scope (a crew-bound token sees its crew
// only). A refused one gets an error frame and nothing of that workspace.
#include <ctime>
#include <unordered_map>

#include "api/bridge.h"
#include "api/jwt.h"
#include "api/realtime.h"
#include "api/routes.h"
#include "daemon/json_input.h"
#include "daemon/log.h"
#include "daemon/problem.h"
#include "daemon/websocket.h"
#include "store/chat_store.h"
#include "store/crew_store.h"
#include "store/workspace_store.h"

namespace crewship::api {
namespace {

constexpr size_t kLogRoom = 256 << 10;  // unsent bytes under which a log follower is sent more
constexpr size_t kMaxId = 128;
// A client message over 64 KiB closes with 1009, but for chat.send, whose
// content (256 KiB at most) may take six times that as JSON escapes.
constexpr size_t kMaxMessage = 64 << 10;
constexpr size_t kMaxChatSend = (256 << 10) * 6 + (4 << 10);

struct Refusal {
  int code = 0;
  std::string message;
};

class WsClient final : public ws::Session, public Subscriber {
 public:
  WsClient(App& app, Principal who)
      : ws::Session(app.loop, options(app)), app_(app), who_(std::move(who)) {
    ++app_.hub->clients;
    if (who_.kind != Principal::Kind::kInternal) add_user_client(app_, who_.user_id, this);
  }
  ~WsClient() override {
    --app_.hub->clients;
    *alive_ = false;
  }

  void deliver(const Shared& message) override { send_frame(message); }
  void revoke() override {
    ++app_.hub->revoked;
    on_gone();  // nothing more is delivered, even while the close is under way
    close(ws::kPolicyViolation, "workspace membership changed");
  }

 protected:
  void on_text(std::string_view text) override;
  void on_overflow() override {
    ++app_.hub->slow_closes;
    LOG_INFO("ws: client too slow (%zu bytes queued), closing with 1013", queued());
  }
  void on_gone() override {
    remove_user_client(app_, who_.user_id, this);
    for (const auto& [key, n] : topics_) unsubscribe(app_, key, this);
    topics_.clear();
    for (auto& [agent, follow] : logs_) follow.log->unfollow(follow.follower);
    logs_.clear();
  }

 private:
  struct Follow {
    container::AgentLog* log;
    container::AgentLog::Follower* follower;
  };

  static ws::SessionOptions options(const App& app) {
    ws::SessionOptions o;
    o.max_message = kMaxChatSend;
    o.max_queue = static_cast<size_t>(app.config.ws_max_queue);
    o.ping_interval_ms = static_cast<uint64_t>(app.config.ws_ping_ms);
    o.outbox = app.hub->outbox;
    return o;
  }

  void answer(json::Out& out) { send_frame(ws::text_frame(out.take())); }
  void error(int code, std::string_view message);
  void acknowledge(std::string_view type, std::string_view channel, std::string_view workspace_id,
                   std::string_view chat_id = {});
  Refusal authorize(const std::string& workspace_id);
  Refusal crew_scope(const std::string& workspace_id, std::string* crew_id);
  void on_subscribe(const rapidjson::Document& doc, bool subscribe);
  Refusal chat_scope(const std::string& chat_id, store::ChatRef* out);
  void on_chat(const rapidjson::Document& doc, std::string_view type);
  void follow_log(const std::string& workspace_id, const std::string& scope_crew, const rapidjson::Document& doc);

  App& app_;
  Principal who_;
  std::unordered_map<std::string, int> topics_;  // topic keys this session is in
  std::unordered_map<std::string, Follow> logs_;  // by agent id
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for answers that come late
};

std::string string_member(const rapidjson::Document& doc, const char* name) {
  auto it = doc.FindMember(name);
  if (it == doc.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

void WsClient::error(int code, std::string_view message) {
  json::Out out;
  out.begin_object();
  out.member("type", "error");
  out.member("code", code);
  out.member("message", message);
  out.end_object();
  answer(out);
}

void WsClient::acknowledge(std::string_view type, std::string_view channel, std::string_view workspace_id,
                           std::string_view chat_id) {
  json::Out out;
  out.begin_object();
  out.member("type", type);
  out.member("channel", channel);
  if (!workspace_id.empty()) out.member("workspace_id", workspace_id);
  if (!chat_id.empty()) out.member("chat_id", chat_id);
  out.end_object();
  answer(out);
}

// The caller may read workspace_id: a member of it, or an internal token
// whose scope includes it (the master token's includes every workspace).
Refusal WsClient::authorize(const std::string& workspace_id) {
  if (workspace_id.empty()) return {400, "workspace_id is required"};
  if (workspace_id.size() > kMaxId) return {403, "not a member of this workspace"};
  if (who_.kind == Principal::Kind::kInternal) {
    if (!who_.workspace_id.empty() && who_.workspace_id != workspace_id)
      return {403, "the token's scope is another workspace"};
    return {};
  }
  auto role = store::member_role(app_.store.reader(), workspace_id, who_.user_id);
  if (!role && role.problem().status == 404) return {403, "not a member of this workspace"};
  if (!role) {
    LOG_ERROR("ws: membership of %s: %s", workspace_id.c_str(), role.problem().cause.c_str());
    return {500, "storage error"};
  }
  Role r = Role::kNone;
  if (!parse_role(*role, &r) || r < kRead) return {403, "not a member of this workspace"};
  return {};
}

// *crew_id: the crew filter asked for, checked to be a crew of the
// workspace; a crew-bound token's crew whatever was asked.
Refusal WsClient::crew_scope(const std::string& workspace_id, std::string* crew_id) {
  if (!who_.crew_id.empty()) {
    if (!crew_id->empty() && *crew_id != who_.crew_id) return {403, "the token's scope is another crew"};
    *crew_id = who_.crew_id;
    return {};
  }
  if (crew_id->empty()) return {};
  if (crew_id->size() > kMaxId) return {404, "crew not found"};
  auto crew = store::find_crew(app_.store.reader(), *crew_id, workspace_id);
  if (!crew) return {crew.problem().status == 404 ? 404 : 500, crew.problem().status == 404 ? "crew not found" : "storage error"};
  return {};
}

void WsClient::on_text(std::string_view text) {
  rapidjson::Document doc;
  std::string why;
  bool parsed = json::parse_object(text, &doc, &why);
  std::string type = parsed ? string_member(doc, "type") : std::string();
  if (text.size() > kMaxMessage && type != "chat.send") return close(ws::kTooBig, "message too big");
  if (!parsed) return error(400, why);
  if (type == "ping") {
    json::Out out;
    out.begin_object();
    out.member("type", "pong");
    out.end_object();
    return answer(out);
  }
  if (type == "subscribe" || type == "unsubscribe") return on_subscribe(doc, type == "subscribe");
  if (type == "chat.send") return on_chat(doc, type);
  error(400, type.empty() ? "type is required" : "unknown type");
}

void WsClient::on_subscribe(const rapidjson::Document& doc, bool subscribe) {
  std::string channel = string_member(doc, "channel");
  if (channel == "chat") return on_chat(doc, subscribe ? "subscribe" : "unsubscribe");
  if (channel != "presence" && channel != "events" && channel != "agent_logs")
    return error(400, channel.empty() ? "channel is required" : "unknown channel");
  std::string workspace_id = string_member(doc, "workspace_id");
  if (!subscribe) {
    if (channel == "agent_logs") {
      auto it = logs_.find(string_member(doc, "agent_id"));
      if (it != logs_.end()) {
        it->second.log->unfollow(it->second.follower);
        logs_.erase(it);
      }
    } else {
      std::string key = topic_key(channel, workspace_id);
      if (topics_.erase(key) > 0) api::unsubscribe(app_, key, this);
    }
    return acknowledge("unsubscribed", channel, workspace_id);
  }
  if (Refusal r = authorize(workspace_id); r.code != 0) return error(r.code, r.message);
  std::string crew_id = channel == "presence" ? string_member(doc, "crew_id") : std::string();
  if (Refusal r = crew_scope(workspace_id, &crew_id); r.code != 0) return error(r.code, r.message);
  if (channel == "agent_logs") return follow_log(workspace_id, who_.crew_id, doc);
  std::string key = topic_key(channel, workspace_id);
  topics_[key] = 1;
  api::subscribe(app_, key, this, crew_id);
  acknowledge("subscribed", channel, workspace_id);
}

// The chat, when the caller may see it: a member of its workspace, or an
// internal token whose scope holds its agent.
Refusal WsClient::chat_scope(const std::string& chat_id, store::ChatRef* out) {
  if (chat_id.empty()) return {400, "chat_id is required"};
  if (chat_id.size() > kMaxId) return {404, "chat not found"};
  auto chat = store::find_chat(app_.store.reader(), chat_id);
  if (!chat) {
    LOG_ERROR("ws: chat %s: %s", chat_id.c_str(), chat.problem().cause.c_str());
    return {500, "storage error"};
  }
  if (!*chat) return {404, "chat not found"};
  if (Refusal r = authorize((*chat)->workspace_id); r.code != 0) return r;
  if (!who_.crew_id.empty() && (*chat)->crew_id != who_.crew_id) return {403, "the token's scope is another crew"};
  *out = std::move(**chat);
  return {};
}

// subscribe / unsubscribe of the chat channel, and chat.send: a user message
// stored by the chat module, which then broadcasts it (the sender sees it
// on the chat channel when subscribed; only a refusal answers it directly).
void WsClient::on_chat(const rapidjson::Document& doc, std::string_view type) {
  std::string chat_id = string_member(doc, "chat_id");
  std::string key = topic_key("chat", chat_id);
  if (type == "unsubscribe") {
    if (topics_.erase(key) > 0) api::unsubscribe(app_, key, this);
    return acknowledge("unsubscribed", "chat", {}, chat_id);
  }
  store::ChatRef chat;
  if (Refusal r = chat_scope(chat_id, &chat); r.code != 0) return error(r.code, r.message);
  if (type == "subscribe") {
    topics_[key] = 1;
    api::subscribe(app_, key, this, "");
    return acknowledge("subscribed", "chat", chat.workspace_id, chat_id);
  }
  auto content = doc.FindMember("content");
  if (content == doc.MemberEnd() || !content->value.IsString() || content->value.GetStringLength() == 0)
    return error(400, "content must be a non-empty string");
  if (!app_.hub->append_chat) return error(404, "chat messages are not stored by this crewshipd");
  app_.hub->append_chat(app_, who_, chat_id, std::string(content->value.GetString(), content->value.GetStringLength()),
                        [this, alive = alive_](Result<std::string> stored) {
                          if (!*alive || stored) return;
                          int code = stored.problem().status;
                          error(code == 400 || code == 403 || code == 404 ? code : 500, stored.problem().detail);
                        });
}

// Gapless from offset, like GET .../logs?follow=1: what the log holds, then
// each new entry, as {"type":"log","offset":N,...entry}.
void WsClient::follow_log(const std::string& workspace_id, const std::string& scope_crew,
                          const rapidjson::Document& doc) {
  std::string agent_id = string_member(doc, "agent_id");
  if (agent_id.empty()) return error(400, "agent_id is required");
  int64_t offset = 0;
  if (auto it = doc.FindMember("offset"); it != doc.MemberEnd()) {
    if (!it->value.IsInt64() || it->value.GetInt64() < 0) return error(400, "offset must be a non-negative integer");
    offset = it->value.GetInt64();
  }
  if (crews(app_).stopped()) return error(503, "shutting down");
  if (agent_id.size() > kMaxId) return error(404, "agent not found");
  auto agent = store::find_agent(app_.store.reader(), agent_id, workspace_id, scope_crew);
  if (!agent) return error(agent.problem().status == 404 ? 404 : 500, agent.problem().status == 404 ? "agent not found" : "storage error");
  if (logs_.contains(agent_id)) return acknowledge("subscribed", "agent_logs", workspace_id);
  container::AgentLog& log = agent_log(app_, *agent);
  auto next = std::make_shared<int64_t>(offset);
  auto* f = log.follow(
      offset,
      [this, next, agent_id](const std::string& line) {
        bool ok = !closing();
        if (ok && line.size() >= 2 && line.front() == '{') {
          std::string frame = "{\"type\":\"log\",\"offset\":" + std::to_string((*next)++);
          frame += line.size() > 2 ? "," : "";
          frame.append(line, 1, std::string::npos);
          ok = send_frame(ws::text_frame(frame));
        }
        if (!ok) logs_.erase(agent_id);  // the follower ends with this answer
        return ok;
      },
      [this] { return queued() < kLogRoom; }, [this, agent_id] { logs_.erase(agent_id); });
  logs_[agent_id] = {&log, f};
  acknowledge("subscribed", "agent_logs", workspace_id);
}

}  // namespace

// GET /ws (both listeners). The token is checked before anything else, so a
// bad one gets a plain 401 and never an upgrade.
void ws_connect(App& app, const ExchangePtr& ex) {
  if (ex->who.kind != Principal::Kind::kInternal) {
    auto token = ex->req.query_param("token");
    JwtClaims claims;
    if (!token || token->empty()) return reply_problem(ex, 401, "a ws-token is required (?token=)");
    if (!jwt_verify(*token, app.auth_secret, time(nullptr), &claims) || claims.kind != "ws" || claims.sub.empty())
      return reply_problem(ex, 401, "invalid or expired ws-token");
    ex->who.kind = Principal::Kind::kSession;
    ex->who.user_id = claims.sub;
  }
  std::string key, why;
  if (!ws::wants_upgrade(ex->req, &key, &why)) {
    http::Response r = problem(426, why, ex->req.path);
    r.headers.push_back({"Upgrade", "websocket"});
    return ex->respond(std::move(r));
  }
  if (!client_admitted(app)) return reply_problem(ex, fail(503, "too many WebSocket connections", 1));
  auto* client = new WsClient(app, ex->who);
  if (!ex->upgrade(ws::switching_protocols(key), client)) delete client;
}

}  // namespace crewship::api
