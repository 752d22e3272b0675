#include "daemon/router.h"

#include <cassert>

namespace crewship {
namespace {

// Splits "/a/b/c" into {"a","b","c"}; the leading '/' is required.
template <typename F>
bool for_each_segment(std::string_view path, F&& f) {
  if (path.empty() || path[0] != '/') return false;
  path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    if (!f(path.substr(0, slash))) return false;
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

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

Router::Router(std::span<const Route> routes) {
  routes_.reserve(routes.size());
  for (const Route& r : routes) {
    Compiled c{&r, {}};
    bool ok = for_each_segment(r.pattern, [&](std::string_view seg) {
      bool capture = seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
      c.segments.push_back({capture ? seg.substr(1, seg.size() - 2) : seg, capture});
      return true;
    });
    assert(ok && "route patterns start with '/'");
    (void)ok;
    routes_.push_back(std::move(c));
  }
}

bool Router::match_path(const Compiled& c, std::string_view path,
                        std::vector<std::pair<std::string_view, std::string_view>>* params) {
  size_t i = 0;
  size_t mark = params->size();
  bool ok = for_each_segment(path, [&](std::string_view seg) {
    if (i >= c.segments.size()) return false;
    const Segment& s = c.segments[i++];
    if (s.capture) {
      if (seg.empty()) return false;
      params->emplace_back(s.text, seg);
      return true;
    }
    return s.text == seg;
  });
  if (ok && i == c.segments.size()) return true;
  params->resize(mark);
  return false;
}

Router::Match Router::match(http::Method method, std::string_view path,
                            std::vector<std::pair<std::string_view, std::string_view>>* params) const {
  Match m;
  http::Method want = method == http::Method::kHead ? http::Method::kGet : method;
  for (const Compiled& c : routes_) {
    if (!match_path(c, path, params)) continue;
    if (c.route->method == want) {
      m.route = c.route;
      m.allow.clear();
      return m;
    }
    params->clear();
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += http::method_name(c.route->method);
    if (c.route->method == http::Method::kGet) m.allow += ", HEAD";
  }
  return m;
}

}  // namespace crewship
