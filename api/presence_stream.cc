// GET /api/v1/presence/stream?workspace_id=[&crew_id=]: the roster's changes
// as Server-Sent Events, for curl and simple pages. Each status write is
//   event: presence / id: <journal cursor> / data: <row JSON>
// with a comment heartbeat every CREWSHIP_SSE_HEARTBEAT. Last-Event-ID first
// replays the journal's entries after that cursor, so a reconnect misses no
// transition. Auth is the roster's (any member of the workspace).
#include <charconv>

#include <uv.h>

#include "api/realtime.h"
#include "api/routes.h"
#include "daemon/log.h"
#include "store/crew_store.h"
#include "store/errors.h"
#include "store/presence_feed.h"

namespace crewship::api {
namespace {

constexpr int64_t kReplayPage = 500;
constexpr int64_t kMaxReplay = 10000;  // entries; an older cursor should reload the roster

class SseClient final : public Subscriber {
 public:
  SseClient(App& app, ExchangePtr ex, std::string key) : app_(app), ex_(std::move(ex)), key_(std::move(key)) {
    ++app_.hub->clients;
    add_user_client(app_, ex_->who.user_id, this);
    uv_timer_init(app_.loop, &timer_);
    timer_.data = this;
    auto beat = static_cast<uint64_t>(app_.config.sse_heartbeat_ms);
    uv_timer_start(&timer_, [](uv_timer_t* t) { static_cast<SseClient*>(t->data)->write(": heartbeat\n\n"); },
                   beat, beat);
  }

  void deliver(const Shared& message) override { write(*message); }
  void revoke() override {
    ++app_.hub->revoked;
    finish(true);
  }

  // Ends the stream (shutdown) or forgets it (the client left); frees itself.
  void finish(bool end_stream) {
    if (done_) return;
    done_ = true;
    unsubscribe(app_, key_, this);
    app_.hub->streams.erase(this);
    remove_user_client(app_, ex_->who.user_id, this);
    --app_.hub->clients;
    ex_->on_gone = nullptr;
    if (end_stream) ex_->end_stream();
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_),
             [](uv_handle_t* h) { delete static_cast<SseClient*>(h->data); });
  }

  void write(std::string_view text) {
    if (done_) return;
    // A client that does not take what it is sent is dropped, not buffered for.
    if (ex_->queued_bytes() + text.size() > static_cast<size_t>(app_.config.ws_max_queue)) {
      ++app_.hub->slow_closes;
      LOG_INFO("presence stream: client too slow, closing");
      return finish(true);
    }
    if (!ex_->write_chunk(text)) finish(false);
  }

 private:
  App& app_;
  ExchangePtr ex_;
  std::string key_;
  uv_timer_t timer_;
  bool done_ = false;
};

bool parse_cursor(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size() && *out >= 0;
}

// The journal's entries after cursor as SSE events, or a store failure.
int replay(App& app, const std::string& workspace_id, const std::string& crew_id, int64_t cursor, std::string* out) {
  for (int64_t sent = 0; sent < kMaxReplay;) {
    int64_t n = 0;
    int rc = store::status_entries_after(
        app.store.reader(), workspace_id, crew_id, cursor, kReplayPage, [&](const store::JournalRow& row) {
          ++n;
          cursor = row.id;
          rapidjson::Document payload;
          payload.Parse(row.payload.data(), row.payload.size());
          std::string status, details;
          if (payload.IsObject()) {
            if (auto s = payload.FindMember("status"); s != payload.MemberEnd() && s->value.IsString())
              status = s->value.GetString();
            if (auto d = payload.FindMember("details"); d != payload.MemberEnd() && d->value.IsObject()) {
              json::Out raw;
              d->value.Accept(raw.w());
              details = raw.take();
            }
          }
          json::Out data;
          data.begin_object();
          write_presence_members(data, row.agent_id, row.crew_id, status, row.created_at, details);
          data.end_object();
          *out += "event: presence\nid: " + std::to_string(row.id) + "\ndata: " + data.take() + "\n\n";
        });
    if (rc != SQLITE_OK) return rc;
    sent += n;
    if (n < kReplayPage) break;
  }
  return SQLITE_OK;
}

}  // namespace

void presence_stream(App& app, const ExchangePtr& ex) {
  const std::string& ws = ex->who.workspace_id;
  std::string crew_id = ex->req.query_param("crew_id").value_or("");
  if (crew_id.size() > 128) return reply_problem(ex, 404, "crew not found");
  if (!crew_id.empty()) {
    auto crew = store::find_crew(app.store.reader(), crew_id, ws);
    if (!crew) return reply_problem(ex, crew.problem());
  }
  int64_t cursor = -1;
  if (auto last = ex->req.header("Last-Event-ID"); last && !last->empty()) {
    if (!parse_cursor(*last, &cursor)) return reply_problem(ex, 400, "Last-Event-ID must be a journal cursor");
  }
  if (!client_admitted(app)) return reply_problem(ex, fail(503, "too many streaming clients", 1));
  std::string head = ": presence of " + ws + "\n\n";
  if (cursor >= 0) {
    if (int rc = replay(app, ws, crew_id, cursor, &head); rc != SQLITE_OK)
      return reply_problem(ex, store::store_failure(rc));
  }
  ex->begin_stream(200, "text/event-stream");
  std::string key = topic_key("sse", ws);
  auto* client = new SseClient(app, ex, key);
  subscribe(app, key, client, crew_id);
  app.hub->streams[client] = [client] { client->finish(true); };
  ex->on_gone = [client] { client->finish(false); };
  client->write(head);
}

}  // namespace crewship::api
