// Queries of the crews table. Reader functions take the loop thread's
// connection, writer functions the writer's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

struct CrewRef {
  std::string id;
  std::string workspace_id;
  std::string slug;
  int64_t memory_mb = 0;
  double cpus = 0;
};

// The live (not deleted) crew crew_id, within a scope: workspace_id and
// scope_crew_id empty mean any. 404 "crew not found" when it does not exist
// or lies outside the scope, 500 on a store error.
Result<CrewRef> find_crew(Connection& c, std::string_view crew_id, std::string_view workspace_id,
                          std::string_view scope_crew_id = {});

}  // namespace crewship::store
