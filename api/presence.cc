// The Watch Roster: GET /api/v1/presence/roster[?crew_id=] and the status
// history behind it, GET /api/v1/presence/history.
//
// The presence service keeps each workspace's roster in memory, updated row
// by row as writes commit, and one answer per (workspace, crew filter) and
// version that every reader sends; the ETag is a hash of the rows shown, so
// it changes exactly when they do, and a matching If-None-Match is answered
// 304 without touching the store.
#include <charconv>

#include "api/common.h"
#include "api/routes.h"
#include "store/crew_store.h"
#include "store/errors.h"
#include "store/presence_store.h"

namespace crewship::api {
namespace {

// 404 unless crew_id names a live crew of the caller's workspace (a foreign
// crew answers exactly like a missing one); 500 on a store error.
bool crew_visible(App& app, const ExchangePtr& ex, const std::string& crew_id) {
  auto crew = store::find_crew(app.store.reader(), crew_id, ex->who.workspace_id);
  if (!crew) reply_problem(ex, crew.problem());
  return crew.ok();
}

// If-None-Match: "*" or a list of entity tags (weak ones compare weakly).
bool etag_matches(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view tag = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

}  // namespace

void presence_roster(App& app, const ExchangePtr& ex) {
  std::string crew_id = ex->req.query_param("crew_id").value_or("");
  if (crew_id.size() > 128) return reply_problem(ex, 404, "crew not found");
  const std::string& ws = ex->who.workspace_id;
  const store::PresenceService::Roster* roster = app.presence.cached_roster(ws, crew_id);
  if (roster == nullptr) {
    if (!crew_id.empty() && !crew_visible(app, ex, crew_id)) return;
    auto built = app.presence.roster(ws, crew_id);
    if (!built) return reply_problem(ex, built.problem());
    roster = *built;
  }
  http::Response r;
  if (auto inm = ex->req.header("If-None-Match"); inm && etag_matches(*inm, roster->etag)) {
    r.status = 304;
  } else {
    r = http::Response::json(200, roster->body);
  }
  r.headers.push_back({"ETag", roster->etag});
  r.headers.push_back({"Cache-Control", "no-cache"});
  ex->respond(std::move(r));
}

// GET /api/v1/presence/history?agent_id=&crew_id=&before=&limit=
// {"entries":[{id, agent_id, crew_id?, status, prev, details, at}], "next_before": id | null}
void presence_history(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  int64_t before = 0;
  if (auto b = ex->req.query_param("before")) {
    auto [p, ec] = std::from_chars(b->data(), b->data() + b->size(), before);
    if (ec != std::errc() || p != b->data() + b->size() || before <= 0)
      return reply_problem(ex, 400, "before must be a positive entry id");
  }
  std::string agent_id = ex->req.query_param("agent_id").value_or("");
  std::string crew_id = ex->req.query_param("crew_id").value_or("");
  if (!crew_id.empty() && !crew_visible(app, ex, crew_id)) return;
  if (!agent_id.empty()) {
    auto known = store::agent_known(app.store.reader(), agent_id, ex->who.workspace_id);
    if (!known) return reply_problem(ex, known.problem());
    if (!*known) return reply_problem(ex, 404, "agent not found");
  }
  json::Out out;
  out.begin_object();
  out.key("entries");
  out.begin_array();
  int64_t n = 0, last = 0;
  int rc = store::status_history(
      app.store.reader(), ex->who.workspace_id, agent_id, crew_id, before, page.limit,
      [&](const store::JournalRow& row) {
        ++n;
        last = row.id;
        rapidjson::Document payload;
        payload.Parse(row.payload.data(), row.payload.size());
        out.begin_object();
        out.member("id", row.id);
        out.member("agent_id", row.agent_id);
        if (!row.crew_id.empty()) out.member("crew_id", row.crew_id);
        for (const char* field : {"status", "prev", "details"}) {
          out.key(field);
          if (payload.IsObject() && payload.HasMember(field)) {
            payload[field].Accept(out.w());
          } else {
            out.w().Null();
          }
        }
        out.member("at", row.created_at);
        out.end_object();
      });
  if (rc != SQLITE_OK) return reply_problem(ex, store::store_failure(rc));
  out.end_array();
  out.key("next_before");
  if (n == page.limit) {
    out.w().Int64(last);
  } else {
    out.w().Null();
  }
  out.end_object();
  reply(ex, 200, out);
}

}  // namespace crewship::api
