// The public listener's route table.
#pragma once

#include "daemon/router.h"

namespace crewship::api {

const Router& router();

// Handlers, one file per resource.
void health(App& app, const ExchangePtr& ex);

}  // namespace crewship::api
