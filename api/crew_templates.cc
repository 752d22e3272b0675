// Crew templates, what hired agents are built from:
//   GET  /api/v1/crew-templates?workspace_id=   the built-in ones, then the workspace's (read)
//   POST /api/v1/crew-templates?workspace_id=   {slug, name, role_title?, system_prompt?,
//                                                cli_adapter?, llm_model?} -> 201 (create role)
// A slug is taken when a built-in or a template of the workspace has it (409).
#include "api/common.h"
#include "api/routes.h"
#include "daemon/ids.h"
#include "store/template_store.h"

namespace crewship::api {
namespace {

void write_template(json::Out& out, const store::CrewTemplate& t) {
  out.begin_object();
  if (t.id) out.member("id", *t.id);
  if (t.workspace_id) out.member("workspace_id", *t.workspace_id);
  out.member("slug", t.slug);
  out.member("name", t.name);
  nullable(out, "role_title", t.role_title);
  nullable(out, "system_prompt", t.system_prompt);
  out.member("cli_adapter", t.cli_adapter);
  nullable(out, "llm_model", t.llm_model);
  out.member("built_in", t.built_in);
  if (t.created_by_user_id) out.member("created_by_user_id", *t.created_by_user_id);
  if (t.created_at) out.member("created_at", *t.created_at);
  out.end_object();
}

}  // namespace

// GET /api/v1/crew-templates?workspace_id=[&limit=&offset=]
void list_crew_templates(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  auto all = store::list_templates(app.store.reader(), ex->who.workspace_id);
  if (!all) return reply_problem(ex, all.problem());
  json::Out out;
  out.begin_array();
  auto n = static_cast<int64_t>(all->size());
  for (int64_t i = page.offset; i < n && i < page.offset + page.limit; ++i) write_template(out, (*all)[i]);
  out.end_array();
  reply(ex, 200, out);
}

// POST /api/v1/crew-templates?workspace_id=
void create_crew_template(App& app, const ExchangePtr& ex) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return;
  json::Field<std::string> slug, name, role_title, system_prompt, cli_adapter, llm_model;
  json::Reader r(doc);
  r.string("slug", &slug, {.min = 2, .max = 50, .required = true, .nullable = false})
      .string("name", &name, {.min = 2, .max = 100, .required = true, .nullable = false})
      .string("role_title", &role_title, {.min = 0, .max = 100})
      .string("system_prompt", &system_prompt, {.min = 0, .max = 100000})
      .one_of("cli_adapter", &cli_adapter, kCliAdapters, {})
      .string("llm_model", &llm_model, {.min = 0, .max = 128});
  if (!r.ok()) return reply_problem(ex, 400, r.error());
  if (!check_name_and_slug(ex, name, slug)) return;
  store::CrewTemplate t;
  t.slug = slug.value;
  t.name = name.value;
  t.role_title = text_of(role_title);
  t.system_prompt = text_of(system_prompt);
  if (cli_adapter.has_value()) t.cli_adapter = cli_adapter.value;
  t.llm_model = text_of(llm_model);
  t.id = new_id();
  t.workspace_id = ex->who.workspace_id;
  t.created_by_user_id = ex->who.user_id;
  t.created_at = now_rfc3339();
  submit(
      app,
      [t, audit = audit_of(*ex, "crew_template.create", "crew_template", *t.id,
                           details_of({{"slug", t.slug}}))](store::Connection& w) -> Status {
        return audited(w, store::insert_template(w, t), audit);
      },
      [ex, t](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        json::Out out;
        write_template(out, t);
        reply(ex, 201, out);
      });
}

}  // namespace crewship::api
