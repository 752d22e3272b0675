#include "api/realtime.h"

#include <vector>

#include "daemon/log.h"
#include "store/presence_feed.h"

namespace crewship::api {
namespace {

Hub& hub(App& app) { return *app.hub; }

// Framed once here; every subscriber's write sends this buffer as it is.
Shared frame(json::Out& out) { return ws::text_frame(out.take()); }

// Hands message to every subscriber of the topic that sees crew_id. A
// delivery may close a subscriber, which removes it from the topic: walk a
// copy, and look again only once a topic changed.
void fan_out(App& app, const std::string& key, std::string_view crew_id, const Shared& message) {
  Hub& h = hub(app);
  auto it = h.topics.find(key);
  if (it == h.topics.end() || it->second.empty()) return;
  std::vector<Subscriber*> to;
  to.reserve(it->second.size());
  for (const auto& [s, crew] : it->second)
    if (crew.empty() || crew == crew_id) to.push_back(s);
  uint64_t changes = h.topic_changes, delivered = 0;
  for (Subscriber* s : to) {
    if (h.topic_changes != changes) {
      auto again = h.topics.find(key);
      if (again == h.topics.end() || !again->second.contains(s)) continue;
    }
    s->deliver(message);
    ++delivered;
  }
  h.frames_out += delivered;
}

bool has_subscribers(App& app, const std::string& key) {
  auto it = hub(app).topics.find(key);
  return it != hub(app).topics.end() && !it->second.empty();
}

void on_presence(App& app, const store::PresenceChange& c) {
  std::string ws_key = topic_key("presence", c.workspace_id);
  if (has_subscribers(app, ws_key)) {
    json::Out out;
    out.begin_object();
    out.member("type", "presence");
    write_presence_members(out, c.agent_id, c.crew_id, c.status, c.since, c.details);
    out.end_object();
    fan_out(app, ws_key, c.crew_id, frame(out));
  }
  std::string sse_key = topic_key("sse", c.workspace_id);
  if (has_subscribers(app, sse_key)) {
    // The id is the journal's cursor, so a reconnect resumes after it.
    auto cursor = store::last_status_entry(app.store.reader(), c.agent_id);
    if (!cursor) {
      LOG_ERROR("presence stream: journal cursor: %s", cursor.problem().cause.c_str());
    } else {
      json::Out data;
      data.begin_object();
      write_presence_members(data, c.agent_id, c.crew_id, c.status, c.since, c.details);
      data.end_object();
      std::string event = "event: presence\nid: " + std::to_string(*cursor) + "\ndata: " + data.take() + "\n\n";
      fan_out(app, sse_key, c.crew_id, std::make_shared<const std::string>(std::move(event)));
    }
  }
  if (c.transition) {
    json::Out data;
    data.begin_object();
    write_presence_members(data, c.agent_id, c.crew_id, c.status, c.since, c.details);
    data.end_object();
    publish_event(app, c.workspace_id, c.crew_id, "agent.status_changed", data.take());
  }
}

}  // namespace

std::string topic_key(std::string_view channel, std::string_view workspace_id) {
  std::string key(channel);
  key += '\n';
  key += workspace_id;
  return key;
}

void write_presence_members(json::Out& out, std::string_view agent_id, std::string_view crew_id,
                            std::string_view status, std::string_view since, std::string_view details) {
  out.member("agent_id", agent_id);
  if (!crew_id.empty()) out.member("crew_id", crew_id);
  out.member("status", status);
  out.member("since", since);
  if (!details.empty() && details != "{}") {
    out.key("details");
    out.w().RawValue(details.data(), details.size(), rapidjson::kObjectType);
  }
}

void start_realtime(App& app) {
  app.hub = std::make_unique<Hub>();
  app.hub->outbox = std::make_shared<ws::Outbox>(app.loop);
  app.presence.observe([&app](const store::PresenceChange& c) { on_presence(app, c); });
}

void stop_realtime(App& app) {
  if (!app.hub) return;
  hub(app).stopping = true;
  hub(app).outbox->close();  // the closes of the drain are written at once
  auto streams = std::move(hub(app).streams);
  hub(app).streams.clear();
  for (auto& [s, end] : streams) end();
}

void subscribe(App& app, const std::string& key, Subscriber* s, std::string crew_id) {
  hub(app).topics[key][s] = std::move(crew_id);
  ++hub(app).topic_changes;
}

void unsubscribe(App& app, const std::string& key, Subscriber* s) {
  auto it = hub(app).topics.find(key);
  if (it == hub(app).topics.end()) return;
  it->second.erase(s);
  if (it->second.empty()) hub(app).topics.erase(it);
  ++hub(app).topic_changes;
}

void publish_event(App& app, std::string_view workspace_id, std::string_view crew_id, std::string_view name,
                   std::string_view data_json) {
  if (!app.hub) return;
  std::string key = topic_key("events", workspace_id);
  if (!has_subscribers(app, key)) return;
  json::Out out;
  out.begin_object();
  out.member("type", "event");
  out.member("event", name);
  out.key("data");
  out.w().RawValue(data_json.data(), data_json.size(), rapidjson::kObjectType);
  out.end_object();
  fan_out(app, key, crew_id, frame(out));
}

void publish_chat_message(App& app, std::string_view workspace_id, std::string_view crew_id,
                          std::string_view chat_id, std::string_view message_json) {
  if (!app.hub || message_json.size() < 2 || message_json.front() != '{') return;
  // {"chat_id":X, ...the message's members}
  json::Out id;
  id.begin_object();
  id.member("chat_id", chat_id);
  id.end_object();
  std::string data = id.take();
  data.pop_back();
  if (message_json.size() > 2) data += ',';
  data.append(message_json.substr(1));
  json::Out out;
  out.begin_object();
  out.member("type", "event");
  out.member("event", "chat.message");
  out.key("data");
  out.w().RawValue(data.data(), data.size(), rapidjson::kObjectType);
  out.end_object();
  fan_out(app, topic_key("chat", chat_id), "", frame(out));
  publish_event(app, workspace_id, crew_id, "chat.message", data);
}

void add_user_client(App& app, const std::string& user_id, Subscriber* s) {
  if (!user_id.empty()) hub(app).users[user_id].insert(s);
}

void remove_user_client(App& app, const std::string& user_id, Subscriber* s) {
  auto it = hub(app).users.find(user_id);
  if (it == hub(app).users.end()) return;
  it->second.erase(s);
  if (it->second.empty()) hub(app).users.erase(it);
}

void drop_user_clients(App& app, const std::string& user_id) {
  if (!app.hub) return;
  auto it = hub(app).users.find(user_id);
  if (it == hub(app).users.end()) return;
  std::vector<Subscriber*> clients(it->second.begin(), it->second.end());
  for (Subscriber* s : clients) s->revoke();
}

bool client_admitted(App& app) {
  if (hub(app).stopping) return false;
  if (hub(app).clients < static_cast<size_t>(app.config.ws_max_connections)) return true;
  ++hub(app).refused;
  return false;
}

}  // namespace crewship::api
