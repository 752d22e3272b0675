// The admin pages of the current workspace (the one workspace_id names, as
// on every workspace-scoped route), for its OWNERs only:
//   GET /api/v1/admin/stats             {workspaces: 1, users, agents, running}
//   GET /api/v1/admin/users             members with role, last sign-in, tokens
//   GET /api/v1/admin/workspaces        [the workspace with its counts]
//   GET /api/v1/admin/keeper/requests   the keeper's access log, newest first
#include "api/common.h"
#include "api/routes.h"
#include "store/admin_store.h"
#include "store/agent_store.h"
#include "store/keeper_store.h"
#include "store/workspace_store.h"

namespace crewship::api {

// GET /api/v1/admin/stats: workspaces is always 1, the current one; users are
// its members, agents its live agents and running those RUNNING.
void admin_stats(App& app, const ExchangePtr& ex) {
  auto ws = store::find_workspace(app.store.reader(), ex->who.workspace_id);
  if (!ws) return reply_problem(ex, ws.problem());
  auto load = store::workspace_load(app.store.reader(), ex->who.workspace_id);
  if (!load) return reply_problem(ex, load.problem());
  json::Out out;
  out.begin_object();
  out.member("workspaces", 1);
  out.member("users", ws->members);
  out.member("agents", load->all.total);
  out.member("running", load->all.running);
  out.end_object();
  reply(ex, 200, out);
}

// GET /api/v1/admin/users: in the order they joined. last_sign_in_at is when
// the user's newest session was issued (null: never); cli_tokens counts the
// unrevoked ones. Both are about the user across the instance, and any user
// may own a workspace and add members to it, so only the instance's operator
// sees them.
void admin_users(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  auto operates = operates_instance(app, ex);
  if (!operates) return;
  reply_list(ex, store::list_member_activity(app.store.reader(), ex->who.workspace_id, page.limit, page.offset),
             [operator_view = *operates](json::Out& out, const store::MemberActivity& a) {
               out.begin_object();
               out.member("id", a.member.id);
               out.member("user_id", a.member.user_id);
               out.member("email", a.member.email);
               nullable(out, "name", a.member.name);
               out.member("role", a.member.role);
               out.member("created_at", a.member.created_at);
               if (operator_view) {
                 nullable(out, "last_sign_in_at", a.last_sign_in_at);
                 out.member("cli_tokens", a.cli_tokens);
               }
               out.end_object();
             });
}

// GET /api/v1/admin/workspaces: a list of one, the current workspace (an
// offset past it gives an empty page).
void admin_workspaces(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  auto ws = store::find_workspace(app.store.reader(), ex->who.workspace_id);
  if (!ws) return reply_problem(ex, ws.problem());
  json::Out out;
  out.begin_array();
  if (page.offset == 0) {
    out.begin_object();
    out.member("id", ws->id);
    out.member("name", ws->name);
    out.member("slug", ws->slug);
    out.member("created_at", ws->created_at);
    out.member("updated_at", ws->updated_at);
    out.member("members", ws->members);
    out.member("agents", ws->agents);
    out.member("crews", ws->crews);
    out.end_object();
  }
  out.end_array();
  reply(ex, 200, out);
}

// GET /api/v1/admin/keeper/requests: one row per credential opened for a
// run of the workspace, newest first; never a value.
void admin_keeper_requests(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  reply_list(ex, store::list_keeper_requests(app.store.reader(), ex->who.workspace_id, page.limit, page.offset),
             [](json::Out& out, const store::KeeperRequest& r) {
               out.begin_object();
               out.member("id", r.id);
               out.member("credential_id", r.credential_id);
               out.member("agent_id", r.agent_id);
               out.member("run_id", r.run_id);
               out.member("env_var_name", r.env_var_name);
               out.member("at", r.at);
               out.end_object();
             });
}

}  // namespace crewship::api
