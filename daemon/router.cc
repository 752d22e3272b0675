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

}  // namespace

Router::Router(std::span<const Route> routes) {
  routes_.reserve(routes.size());
  for (const Route& r : routes) {
    Compiled c{&r, {}, true};
    bool ok = for_each_segment(r.pattern, [&](std::string_view seg) {
      bool capture = seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
      c.segments.push_back({capture ? seg.substr(1, seg.size() - 2) : seg, capture});
      if (capture) c.literal = false;
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

int Router::compare(const Compiled& a, const Compiled& b) {
  // Both matched one path, so both have as many segments.
  for (size_t i = 0; i < a.segments.size() && i < b.segments.size(); ++i) {
    bool la = !a.segments[i].capture, lb = !b.segments[i].capture;
    if (la != lb) return la ? 1 : -1;
  }
  return 0;
}

Router::Match Router::match(http::Method method, std::string_view path,
                            std::vector<std::pair<std::string_view, std::string_view>>* params) const {
  Match m;
  http::Method want = method == http::Method::kHead ? http::Method::kGet : method;
  const Compiled* best = nullptr;  // the most specific pattern matching path so far
  const Compiled* chosen = nullptr;
  for (const Compiled& c : routes_) {
    if (best != nullptr && compare(c, *best) < 0) continue;
    if (!match_path(c, path, params)) continue;
    params->clear();
    if (best == nullptr || compare(c, *best) > 0) {
      best = &c;
      chosen = nullptr;
      m.allow.clear();
    }
    if (c.route->method == want) {
      // Nothing is more specific than an all-literal pattern.
      if (c.literal) {
        m.route = c.route;
        m.allow.clear();
        return m;
      }
      if (chosen == nullptr) chosen = &c;
      continue;
    }
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += http::method_name(c.route->method);
    if (c.route->method == http::Method::kGet) m.allow += ", HEAD";
  }
  if (chosen != nullptr) {
    match_path(*chosen, path, params);
    m.route = chosen->route;
    m.allow.clear();
  }
  return m;
}

}  // namespace crewship
