// Route tables are data: one table of {method, path pattern, handler, auth,
// min role, body limit} per listener. Patterns are literal segments and
// {name} captures ("/api/v1/agents/{id}/logs").
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/http.h"

namespace crewship {

struct App;
class Exchange;
using ExchangePtr = std::shared_ptr<Exchange>;
using Handler = void (*)(App&, const ExchangePtr&);

enum class Auth : uint8_t {
  kNone,      // anyone
  kUser,      // session cookie or CLI token
  kInternal,  // X-Internal-Token (IPC listener)
};

// Workspace roles in rank order; read = any member, create = MANAGER and up,
// manage = ADMIN and up.
enum class Role : uint8_t { kNone, kViewer, kMember, kManager, kAdmin, kOwner };
constexpr Role kRead = Role::kViewer;
constexpr Role kCreate = Role::kManager;
constexpr Role kManage = Role::kAdmin;

std::string_view role_name(Role r);
bool parse_role(std::string_view name, Role* out);

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

struct Route {
  http::Method method;
  std::string_view pattern;
  Handler handler;
  Auth auth = Auth::kNone;
  Role min_role = Role::kNone;
  int64_t body_limit = 0;  // 0: the listener's default
};

class Router {
 public:
  explicit Router(std::span<const Route> routes);

  struct Match {
    const Route* route = nullptr;  // null: no route for this method and path
    std::string allow;             // when the path exists for other methods: "GET, POST"
  };
  // HEAD matches a GET route. Captured parameters are views into path.
  Match match(http::Method method, std::string_view path,
              std::vector<std::pair<std::string_view, std::string_view>>* params) const;

 private:
  struct Segment {
    std::string_view text;
    bool capture;
  };
  struct Compiled {
    const Route* route;
    std::vector<Segment> segments;
  };
  static bool match_path(const Compiled& c, std::string_view path,
                         std::vector<std::pair<std::string_view, std::string_view>>* params);
  std::vector<Compiled> routes_;
};

}  // namespace crewship
