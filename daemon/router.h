// Route tables are data: one table of {method, path pattern, handler, policy,
// body limit} per listener. Patterns are literal segments and {name}
// captures ("/api/v1/agents/{id}/logs"). The router knows no application: a
// route's handler is a function and the context it was registered with, and
// its policy is the listener's own data, handed to the listener's guard.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/http.h"

namespace crewship {

namespace http {
class Exchange;
class BodySink;
using ExchangePtr = std::shared_ptr<Exchange>;
}  // namespace http

// What serves a route: fn, called with the ctx it was registered with.
struct RouteHandler {
  void (*fn)(void* ctx, const http::ExchangePtr& ex) = nullptr;
  void* ctx = nullptr;
  void operator()(const http::ExchangePtr& ex) const { fn(ctx, ex); }
};

struct Route {
  http::Method method;
  std::string_view pattern;
  RouteHandler handler;
  const void* policy = nullptr;  // opaque here: what the listener's guard checks
  int64_t body_limit = 0;        // 0: the listener's default
  // Set: the body is not kept in Request::body but handed in pieces to the
  // sink this makes (with handler.ctx) once the request passed the guard;
  // the handler finds it in Exchange::body_sink. Null from it: a 500.
  std::unique_ptr<http::BodySink> (*body_sink)(void* ctx, http::Exchange& ex) = nullptr;
};

class Router {
 public:
  explicit Router(std::span<const Route> routes);

  struct Match {
    const Route* route = nullptr;  // null: no route for this method and path
    std::string allow;             // when the path exists for other methods: "GET, POST"
  };
  // HEAD matches a GET route. A literal segment wins over a capture for
  // every method: of the patterns that match path, only those with a literal
  // at the first position where they differ are considered, so
  // "/agents/stats" never reaches "/agents/{id}", whatever the method.
  // Captured parameters are views into path.
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
    bool literal;  // no captures
  };
  static bool match_path(const Compiled& c, std::string_view path,
                         std::vector<std::pair<std::string_view, std::string_view>>* params);
  // Of two patterns that match the same path: <0 when a is less specific.
  static int compare(const Compiled& a, const Compiled& b);
  std::vector<Compiled> routes_;
};

}  // namespace crewship
