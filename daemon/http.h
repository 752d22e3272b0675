// HTTP/1.1 messages as the server core hands them to handlers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crewship::http {

enum class Method : uint8_t { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

std::string_view method_name(Method m);
std::string_view reason_phrase(int status);

struct Header {
  std::string name;
  std::string value;
};

bool iequals(std::string_view a, std::string_view b);

// Percent-decodes s into *out; false on a malformed escape. '+' stays '+'
// unless form is set.
bool percent_decode(std::string_view s, std::string* out, bool form = false);

// Percent-encodes everything but RFC 3986's unreserved characters.
std::string percent_encode(std::string_view s);

// The first value of name in an application/x-www-form-urlencoded string
// (a query string or a form body), percent-decoded.
std::optional<std::string> form_value(std::string_view encoded, std::string_view name);

struct Request {
  Method method = Method::kGet;
  std::string target;      // as received: path and query
  std::string_view path;   // view into target, without the query
  std::string_view query;  // view into target, after '?'
  std::vector<Header> headers;
  std::string body;
  std::vector<std::pair<std::string_view, std::string_view>> params;  // route {names} -> path
  std::string id;  // request id: the client's X-Request-Id when sane, else ours
  bool http11 = true;

  std::optional<std::string_view> header(std::string_view name) const;
  // The first query parameter of that name, percent-decoded.
  std::optional<std::string> query_param(std::string_view name) const;
  std::string_view param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type;
  std::vector<Header> headers;
  std::string body;
  // Sent instead of body when set: one buffer that many answers share and
  // none copies (it must not change while any of them is being written).
  std::shared_ptr<const std::string> shared_body;
  bool close = false;  // answer with Connection: close and end the connection

  static Response json(int status, std::string body);
  static Response json(int status, std::shared_ptr<const std::string> body);
  size_t body_size() const { return shared_body ? shared_body->size() : body.size(); }
};

}  // namespace crewship::http
