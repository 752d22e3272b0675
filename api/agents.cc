// Placeholder until this resource is written: every route answers 501.
#include "api/common.h"
#include "api/routes.h"

namespace crewship::api {

void crews_status(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }
void agent_load(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }
void list_agents(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }
void create_agent(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }
void get_agent(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }
void update_agent(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }
void delete_agent(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }

}  // namespace crewship::api
