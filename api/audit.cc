// GET /api/v1/audit?workspace_id=&action=&limit=&offset= (manage): the
// workspace's audit log, newest first. Rows are written by each change's own
// writer work, in its transaction (store/audit_store.h).
#include "api/common.h"
#include "api/routes.h"
#include "store/audit_store.h"

namespace crewship::api {
namespace {

bool valid_action(std::string_view a) {
  if (a.empty() || a.size() > 64) return false;
  for (char c : a)
    if (!((c >= 'a' && c <= 'z') || c == '.' || c == '_')) return false;
  return true;
}

}  // namespace

void list_audit(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  std::string named = ex->req.query_param("action").value_or("");
  if (!named.empty() && !valid_action(named))
    return reply_problem(ex, 400, "action must be an action name such as credential.create");
  std::optional<std::string> action;
  if (!named.empty()) action = std::move(named);
  reply_list(ex, store::list_audit(app.store.reader(), ex->who.workspace_id, action, page.limit, page.offset),
             [](json::Out& out, const store::AuditRow& a) {
               out.begin_object();
               out.member("id", a.id);
               out.member("action", a.action);
               nullable(out, "actor_user_id", a.actor_user_id);
               out.member("target_type", a.target_type);
               out.member("target_id", a.target_id);
               out.key("details");
               if (a.details) {
                 out.w().RawValue(a.details->data(), a.details->size(), rapidjson::kObjectType);
               } else {
                 out.w().Null();
               }
               out.member("created_at", a.created_at);
               out.end_object();
             });
}

}  // namespace crewship::api
