// Who may call a route and who is calling: the authorization vocabulary of
// the handler layer. The HTTP core never sees these; a route carries its
// Access as opaque policy data, and the listener's guard reads it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace crewship {

enum class Auth : uint8_t {
  kNone,      // anyone
  kUser,      // session cookie or CLI token
  kInternal,  // X-Internal-Token (IPC listener)
  kWebhook,   // X-Webhook-Secret of the {agentId} in the path
};

// Workspace roles in rank order; read = any member, create = MANAGER and up,
// manage = ADMIN and up.
enum class Role : uint8_t { kNone, kViewer, kMember, kManager, kAdmin, kOwner };
constexpr Role kRead = Role::kViewer;
constexpr Role kCreate = Role::kManager;
constexpr Role kManage = Role::kAdmin;

std::string_view role_name(Role r);
bool parse_role(std::string_view name, Role* out);

// What a route asks of its caller. A route without one asks nothing.
struct Access {
  Auth auth = Auth::kNone;
  Role min_role = Role::kNone;  // above kNone: the route is workspace-scoped
};

// Who is calling, as the listener's guard established it.
struct Principal {
  enum class Kind : uint8_t { kNone, kSession, kCliToken, kInternal };
  Kind kind = Kind::kNone;
  std::string user_id;
  std::string email;
  std::string name;
  std::string session_id;    // kSession
  std::string token_id;      // kCliToken
  std::string workspace_id;  // when the route is workspace-scoped, or an IPC token's scope
  std::string crew_id;       // an IPC crew-bound token's crew
  Role role = Role::kNone;   // the caller's role in workspace_id
};

}  // namespace crewship
