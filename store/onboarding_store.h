// A workspace's onboarding: when it was marked complete (the onboarding
// table), and the steps its data shows done.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

struct Onboarding {
  std::optional<std::string> completed_at;
  bool crew = false, agent = false, credential = false;  // a live one exists
};
Result<Onboarding> onboarding_of(Connection& c, std::string_view workspace_id);

// Marks workspace_id complete at now unless it is already; the completion
// time that stands.
Result<std::string> complete_onboarding(Connection& w, std::string_view workspace_id,
                                        std::string_view user_id, std::string_view now);

// The live crew of workspace_id with this slug and its live LEAD agent, when
// there is such a crew (lead_id empty: it has no LEAD).
struct CrewLead {
  std::string crew_id, lead_id;
};
Result<std::optional<CrewLead>> find_crew_lead(Connection& c, std::string_view workspace_id,
                                               std::string_view crew_slug);

}  // namespace crewship::store
