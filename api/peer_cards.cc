// Peer cards: the markdown an agent keeps about each person it works with,
// one file per (agent, user) under the agent's crew in the memory tree (see
// memory_files.h), indexed by peer_cards. The runtime writes them over IPC;
// operators list, read and delete them. Every read, write and delete leaves
// a peer_card_audit row, for subject access requests.
#include <memory>

#include "api/common.h"
#include "api/memory_files.h"
#include "api/persona.h"
#include "api/routes.h"
#include "daemon/ids.h"
#include "store/peer_card_store.h"
#include "store/user_store.h"

namespace crewship::api {
namespace {

constexpr int64_t kPeerCardCapBytes = 16 << 10;
constexpr std::string_view kRuntimeActor = "runtime";  // the IPC writer has no user

// The agent of the route, which must be in a crew: the cards' path is the
// crew's (409 otherwise).
bool find_card_agent(App& app, const ExchangePtr& ex, store::PersonaAgent* out) {
  if (!find_persona_agent(app, ex, out)) return false;
  if (out->crew_id.empty()) {
    reply_problem(ex, 409, "the agent has no crew; peer cards live under the agent's crew");
    return false;
  }
  return true;
}


// memory.UserSlug: the email's local part as a slug; the id when that has
// too little in it.
std::string user_slug(std::string_view email, std::string_view user_id) {
  std::string_view local = email.substr(0, email.find('@'));
  int alnum = 0;
  for (char c : local) alnum += (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum >= 2 ? slugify(local) : std::string(user_id);
}

std::string actor_of(const Exchange& ex) {
  return ex.who.kind == Principal::Kind::kInternal ? std::string(kRuntimeActor) : ex.who.user_id;
}

void write_card_row(json::Out& out, const store::PeerCard& p) {
  out.member("user_id", p.user_id);
  out.member("user_slug", user_slug(p.user_email, p.user_id));
  out.member("bytes", p.bytes);
}

}  // namespace

// GET /api/v1/agents/{agentId}/peers?limit=&offset=: {agent_id, peers: [{id,
// user_id, user_slug, bytes, created_at, updated_at}]}, most recently
// written first, without content.
void list_peer_cards(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  store::PersonaAgent a;
  if (!find_card_agent(app, ex, &a)) return;
  auto cards = store::list_peer_cards(app.store.reader(), a.id, page.limit, page.offset);
  if (!cards) return reply_problem(ex, cards.problem());
  json::Out out;
  out.begin_object();
  out.member("agent_id", a.id);
  out.key("peers");
  out.begin_array();
  for (const store::PeerCard& p : *cards) {
    out.begin_object();
    out.member("id", p.id);
    write_card_row(out, p);
    out.member("created_at", p.created_at);
    out.member("updated_at", p.updated_at);
    out.end_object();
  }
  out.end_array();
  out.end_object();
  reply(ex, 200, out);
}

// GET /api/v1/agents/{agentId}/peers/{userId}: {agent_id, user_id, user_slug,
// content, bytes}; 404 when there is no card. The read is audited before
// the answer goes out.
void get_peer_card(App& app, const ExchangePtr& ex) {
  store::PersonaAgent a;
  if (!find_card_agent(app, ex, &a)) return;
  std::string user(ex->req.param("userId"));
  auto card = store::find_peer_card(app.store.reader(), a.id, user);
  if (!card) return reply_problem(ex, card.problem());
  if (!memory_id_ok(user)) return reply_problem(ex, 404, "peer card not found");
  read_memory_file(
      app, {peer_card_path(a.id, user)}, static_cast<size_t>(kPeerCardCapBytes),
      [&app, ex, a, p = std::move(card).value()](Result<FoundFile> f) {
        if (!f) return reply_problem(ex, f.problem());
        if (f->index < 0) return reply_problem(ex, 404, "peer card not found");
        submit(
            app,
            [agent = a.id, user = p.user_id, actor = actor_of(*ex)](store::Connection& w) {
              return store::insert_peer_card_audit(w, agent, user, "read", actor);
            },
            [ex, a, p, content = std::move(f->content)](Status st) {
              if (!st) return reply_problem(ex, st.problem());
              json::Out out;
              out.begin_object();
              out.member("agent_id", a.id);
              write_card_row(out, p);
              out.member("content", content);
              out.end_object();
              reply(ex, 200, out);
            });
      });
}

// DELETE /api/v1/agents/{agentId}/peers/{userId}: removes the file and the
// row; 204 also when there was no card, so a script may retry.
void delete_peer_card(App& app, const ExchangePtr& ex) {
  store::PersonaAgent a;
  if (!find_card_agent(app, ex, &a)) return;
  std::string user(ex->req.param("userId"));
  auto record = [agent = a.id, user, actor = actor_of(*ex)](store::Connection& w, const StagedFile&) -> Status {
    auto gone = store::delete_peer_card(w, agent, user);
    if (!gone) return std::move(gone).take_problem();
    return store::insert_peer_card_audit(w, agent, user, "delete", actor);
  };
  auto done = [ex](Status st) {
    if (!st) return reply_problem(ex, st.problem());
    reply_no_content(ex);
  };
  if (memory_id_ok(user)) return change_memory_file(app, peer_card_path(a.id, user), std::nullopt, record, done);
  submit(app, [record](store::Connection& w) { return record(w, {}); }, done);
}

// PUT /api/v1/internal/agents/{agentId}/peers/{userId} {content}: the card,
// at most 16 KiB, about a member of the agent's workspace (404 otherwise);
// {agent_id, user_id, user_slug, bytes, created_at, updated_at}.
void put_peer_card(App& app, const ExchangePtr& ex) {
  store::PersonaAgent a;
  if (!find_card_agent(app, ex, &a)) return;
  std::string user(ex->req.param("userId"));
  auto member = store::find_workspace_user(app.store.reader(), a.workspace_id, true, user);
  if (!member) return reply_problem(ex, member.problem());
  if (!memory_id_ok(user)) return reply_problem(ex, 404, "no such user in this workspace");
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return;
  json::Field<std::string> content;
  json::Reader in(doc);
  in.string("content", &content, {.max = 1 << 20, .required = true, .nullable = false});
  if (!in.ok()) return reply_problem(ex, 400, in.error());
  if (static_cast<int64_t>(content.value.size()) > kPeerCardCapBytes)
    return reply_problem(ex, 413, "content is larger than the peer card cap of 16 KiB");
  auto row = std::make_shared<store::PeerCard>();
  change_memory_file(
      app, peer_card_path(a.id, user), std::move(content.value),
      [agent = a.id, ws = a.workspace_id, user, actor = actor_of(*ex), row](store::Connection& w,
                                                                            const StagedFile& f) -> Status {
        if (auto still = store::find_workspace_user(w, ws, true, user); !still) return std::move(still).take_problem();
        auto p = store::upsert_peer_card(w, agent, user, f.bytes, now_rfc3339());
        if (!p) return std::move(p).take_problem();
        *row = std::move(p).value();
        return store::insert_peer_card_audit(w, agent, user, "write", actor);
      },
      [ex, row](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        json::Out out;
        out.begin_object();
        out.member("agent_id", row->agent_id);
        write_card_row(out, *row);
        out.member("created_at", row->created_at);
        out.member("updated_at", row->updated_at);
        out.end_object();
        reply(ex, 200, out);
      });
}

}  // namespace crewship::api
