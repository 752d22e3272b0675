// The in-process hub of live pushes: presence rows and events, fanned out to
// WebSocket sessions (api/ws.cc) and SSE streams (api/presence_stream.cc).
// Each message is serialised once per event and its buffer shared by every
// subscriber it goes to; a subscriber whose queue is full is closed, never
// waited for. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "daemon/app.h"
#include "daemon/json.h"
#include "daemon/principal.h"
#include "daemon/result.h"
#include "daemon/websocket.h"
#include "store/presence_service.h"

namespace crewship::api {

using Shared = std::shared_ptr<const std::string>;

// What a topic delivers to. deliver() hands a shared message on (a whole
// WebSocket frame, ws::text_frame, on the /ws topics; an SSE event on
// "sse\n" ones); a subscriber that closes because of it removes itself from
// its topics.
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual void deliver(const Shared& message) = 0;
  // Ends the client because what it may see changed (1008 on /ws).
  virtual void revoke() = 0;
};

// A topic's subscribers and the crew each one is limited to ("" = all).
using Topic = std::unordered_map<Subscriber*, std::string>;

// Stores a user's chat message for /ws's chat.send, as who may (a member of
// the chat's workspace, or within an internal token's scope); done gets the
// stored message as JSON ({id, seq, role, content, created_at}) or the
// problem. The chat module sets Hub::append_chat (api::start_chats) and
// publishes what it stores.
using ChatAppend = std::function<void(App& app, const Principal& who, const std::string& chat_id,
                                      std::string content, std::function<void(Result<std::string>)> done)>;

struct Hub {
  // "presence\n<workspace>", "events\n<workspace>", "chat\n<chat>": WebSocket frames;
  // "sse\n<workspace>": SSE events of the presence stream.
  std::unordered_map<std::string, Topic> topics;
  uint64_t topic_changes = 0;  // subscribes and unsubscribes so far
  size_t clients = 0;          // WebSocket sessions and SSE streams now
  uint64_t slow_closes = 0;    // clients closed for a full outbound queue
  uint64_t revoked = 0;        // clients ended because what they may see changed
  uint64_t refused = 0;        // clients refused at CREWSHIP_WS_MAX_CONNECTIONS
  uint64_t frames_out = 0;     // messages handed to clients
  bool stopping = false;
  // The clients of each signed-in user (not the internal ones).
  std::unordered_map<std::string, std::unordered_set<Subscriber*>> users;
  // Set by the chat module (api::start_chats).
  ChatAppend append_chat;
  // Live SSE streams, so shutdown can end them.
  std::unordered_map<Subscriber*, std::function<void()>> streams;
  // The WebSocket sessions' writes, one per session and loop turn.
  std::shared_ptr<ws::Outbox> outbox;
};

// Creates the hub and attaches it to the presence service's observers.
void start_realtime(App& app);
// Sets Hub::append_chat to the chat module's append (api/chats.cc), after
// start_realtime.
void start_chats(App& app);
// Ends the SSE streams (WebSocket sessions get 1001 from the server's drain).
void stop_realtime(App& app);

std::string topic_key(std::string_view channel, std::string_view workspace_id);
void subscribe(App& app, const std::string& key, Subscriber* s, std::string crew_id);
void unsubscribe(App& app, const std::string& key, Subscriber* s);

// An event on the "events" channel of a workspace: {"type":"event",
// "event":name,"data":data_json}. crew_id limits who sees it ("" = anyone
// subscribed to the workspace, but not crew-bound IPC sessions).
void publish_event(App& app, std::string_view workspace_id, std::string_view crew_id, std::string_view name,
                   std::string_view data_json);

// A stored chat message (message_json: {id, seq, role, content, created_at})
// as {"type":"event","event":"chat.message","data":{"chat_id",...}} to the
// chat's subscribers and the workspace's events channel. The chat module
// calls it once the message is committed.
void publish_chat_message(App& app, std::string_view workspace_id, std::string_view crew_id,
                          std::string_view chat_id, std::string_view message_json);

// A presence row as the roster shows it, with the agent: {"agent_id",
// "crew_id"?, "status", "since", "details"?} (members only, no braces), for
// the WebSocket frame and the SSE data alike.
void write_presence_members(json::Out& out, std::string_view agent_id, std::string_view crew_id,
                            std::string_view status, std::string_view since, std::string_view details);

// The user's clients and what they follow, for a client of that user.
void add_user_client(App& app, const std::string& user_id, Subscriber* s);
void remove_user_client(App& app, const std::string& user_id, Subscriber* s);
// Ends every live client of the user (they left a workspace): a client
// reconnects and subscribes again to what it may still see.
void drop_user_clients(App& app, const std::string& user_id);

// Whether the hub takes another client (CREWSHIP_WS_MAX_CONNECTIONS).
bool client_admitted(App& app);

}  // namespace crewship::api
