#include "api/agent_ref.h"

#include <climits>

#include "api/common.h"

namespace crewship::api {

bool find_agent(App& app, const ExchangePtr& ex, AgentRef* out, bool need_crew) {
  const Principal& who = ex->who;
  auto s = app.store.reader().prepare(
      "SELECT id, workspace_id, coalesce(crew_id, ''), slug, name, status FROM agents"
      " WHERE id = ?1 AND deleted_at IS NULL AND (?2 = '' OR workspace_id = ?2)"
      " AND (?3 = '' OR crew_id = ?3)");
  s.bind(1, ex->req.param("agentId"));
  s.bind(2, who.workspace_id);
  s.bind(3, who.crew_id);
  int rc = s.step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    reply_store_error(ex, rc);
    return false;
  }
  if (rc == SQLITE_DONE) {
    reply_problem(ex, 404, "agent not found");  // the body of agents.cc's 404
    return false;
  }
  out->id = s.text(0);
  out->workspace_id = s.text(1);
  out->crew_id = s.text(2);
  out->slug = s.text(3);
  out->name = s.text(4);
  out->status = s.text(5);
  if (need_crew && out->crew_id.empty()) {
    reply_problem(ex, 404, "agent is not assigned to a crew");
    return false;
  }
  return true;
}

std::string crew_storage_dir(const Config& config, const std::string& crew_id) {
  return config.data_dir + "/storage/crews/" + crew_id;
}

std::string agent_storage_dir(const Config& config, const AgentRef& agent) {
  return crew_storage_dir(config, agent.crew_id) + "/" + agent.slug;
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

}  // namespace crewship::api
