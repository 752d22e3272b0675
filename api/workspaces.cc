// Placeholder until this resource is written: every route answers 501.
#include "api/common.h"
#include "api/routes.h"

namespace crewship::api {

void list_workspaces(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }
void create_workspace(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }
void get_workspace(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }
void update_workspace(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }
void list_members(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }
void add_member(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }
void remove_member(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }

}  // namespace crewship::api
