#include "daemon/principal.h"

#include <iterator>

namespace crewship {
namespace {

constexpr std::string_view kRoleNames[] = {"", "VIEWER", "MEMBER", "MANAGER", "ADMIN", "OWNER"};

}  // namespace

std::string_view role_name(Role r) { return kRoleNames[static_cast<size_t>(r)]; }

bool parse_role(std::string_view name, Role* out) {
  for (size_t i = 1; i < std::size(kRoleNames); ++i) {
    if (kRoleNames[i] == name) {
      *out = static_cast<Role>(i);
      return true;
    }
  }
  return false;
}

}  // namespace crewship
