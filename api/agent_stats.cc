// Agent status aggregates that toolbars and dashboards poll. Any status but
// RUNNING and ERROR (IDLE, STOPPED, PENDING_REVIEW, ...) counts as idle;
// queued counts QUEUED admission-queue assignments, not agents.
#include "api/common.h"
#include "api/routes.h"
#include "store/agent_store.h"

namespace crewship::api {
namespace {

void write_counts(json::Out& out, const store::AgentCounts& c) {
  out.member("total", c.total);
  out.member("running", c.running);
  out.member("idle", c.idle());
  out.member("error", c.error);
}

void write_utilization(json::Out& out, const store::AgentCounts& c) {
  out.key("utilization");
  out.w().Double(c.total == 0 ? 0.0 : static_cast<double>(c.running) / static_cast<double>(c.total));
}

}  // namespace

// GET /api/v1/agents/crews-status?workspace_id=
//   {"total","running","error","idle","queued"}: every bucket always present.
void crews_status(App& app, const ExchangePtr& ex) {
  auto load = store::workspace_load(app.store.reader(), ex->who.workspace_id);
  if (!load) return reply_problem(ex, load.problem());
  json::Out out;
  out.begin_object();
  out.member("total", load->all.total);
  out.member("running", load->all.running);
  out.member("error", load->all.error);
  out.member("idle", load->all.idle());
  out.member("queued", load->queued);
  out.end_object();
  reply(ex, 200, out);
}

// GET /api/v1/agent-load?workspace_id=: load across the workspace's live
// agents, for dashboards. The seed gives no shape; this one is
//   {"total": N, "running": n, "idle": n, "error": n, "queued": n,
//    "utilization": running / total (0 when there are no agents),
//    "crews": [{"crew_id", "name", "slug", "total", "running", "idle",
//               "error", "utilization"}],       every live crew, even empty,
//                                               ordered by created_at, id
//    "unassigned": {"total", "running", "idle", "error", "utilization"}}
// with the status buckets of crews-status.
void agent_load(App& app, const ExchangePtr& ex) {
  auto load = store::workspace_load(app.store.reader(), ex->who.workspace_id);
  if (!load) return reply_problem(ex, load.problem());
  auto crews = store::crew_loads(app.store.reader(), ex->who.workspace_id);
  if (!crews) return reply_problem(ex, crews.problem());
  json::Out out;
  out.begin_object();
  write_counts(out, load->all);
  out.member("queued", load->queued);
  write_utilization(out, load->all);
  out.key("crews");
  out.begin_array();
  for (const store::CrewLoad& crew : *crews) {
    out.begin_object();
    out.member("crew_id", crew.crew_id);
    out.member("name", crew.name);
    out.member("slug", crew.slug);
    write_counts(out, crew.agents);
    write_utilization(out, crew.agents);
    out.end_object();
  }
  out.end_array();
  out.key("unassigned");
  out.begin_object();
  write_counts(out, load->unassigned);
  write_utilization(out, load->unassigned);
  out.end_object();
  out.end_object();
  reply(ex, 200, out);
}

}  // namespace crewship::api
