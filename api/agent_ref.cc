#include "api/agent_ref.h"

#include <climits>

#include "api/common.h"

namespace crewship::api {

bool find_agent(App& app, const ExchangePtr& ex, AgentRef* out, bool need_crew) {
  auto agent = store::find_agent(app.store.reader(), ex->req.param("agentId"), ex->who.workspace_id, ex->who.crew_id);
  if (!agent) {
    reply_problem(ex, agent.problem());  // 404: the body of agents.cc's
    return false;
  }
  *out = std::move(agent).value();
  if (need_crew && out->crew_id.empty()) {
    reply_problem(ex, 404, "agent is not assigned to a crew");
    return false;
  }
  return true;
}

const std::string_view kBadRelativePath =
    " must be a relative path without '..' components, NUL bytes or encoded dots and slashes";

bool normalise_relative_path(std::string_view in, std::string* out) {
  out->clear();
  if (in.size() >= PATH_MAX || in.find('\0') != std::string_view::npos || in.starts_with('/'))
    return false;
  // Decoded once already: an escape still here was encoded twice to slip by.
  for (size_t i = in.find('%'); i != std::string_view::npos; i = in.find('%', i + 1)) {
    std::string_view hex = in.substr(i + 1, 2);
    if (http::iequals(hex, "2e") || http::iequals(hex, "2f") || http::iequals(hex, "5c")) return false;
  }
  while (!in.empty()) {
    size_t slash = in.find('/');
    std::string_view part = in.substr(0, slash);
    in = slash == std::string_view::npos ? std::string_view() : in.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == ".." || part.size() > NAME_MAX) return false;
    if (!out->empty()) out->push_back('/');
    out->append(part);
  }
  return true;
}

}  // namespace crewship::api

namespace crewship::api {

void reply_list(const ExchangePtr& ex, std::string_view envelope, std::string array_json) {
  if (ex->who.kind != Principal::Kind::kInternal) return reply(ex, 200, std::move(array_json));
  std::string body;
  body.reserve(array_json.size() + envelope.size() + 8);
  body += "{\"";
  body += envelope;
  body += "\":";
  body += array_json;
  body += '}';
  reply(ex, 200, std::move(body));
}

void nullable_text(json::Out& out, std::string_view key, std::string_view text) {
  out.key(key);
  if (text.empty()) {
    out.w().Null();
  } else {
    out.str(text);
  }
}

}  // namespace crewship::api
