// RFC 7807 problem details: {type,title,status,detail,instance} plus an
// "error" member with the same message for older clients.
#pragma once

#include <string_view>

#include "daemon/http.h"

namespace crewship {

http::Response problem(int status, std::string_view detail, std::string_view instance);

}  // namespace crewship
