// Placeholder until this resource is written: every route answers 501.
#include "api/common.h"
#include "api/routes.h"

namespace crewship::api {

void list_crews(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }
void create_crew(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }
void get_crew(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }
void update_crew(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }
void delete_crew(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }
void list_crew_members(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }
void add_crew_member(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }
void remove_crew_member(App&, const ExchangePtr& ex) { reply_problem(ex, 501, "not implemented yet"); }

}  // namespace crewship::api
