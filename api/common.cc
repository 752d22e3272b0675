#include "api/common.h"

#include "daemon/json_input.h"
#include "daemon/log.h"
#include "daemon/problem.h"
#include "store/errors.h"
#include "store/workspace_store.h"

namespace crewship::api {

void nullable(json::Out& out, std::string_view key, const store::StmtLease& s, int col) {
  out.key(key);
  if (s.is_null(col)) {
    out.w().Null();
  } else {
    out.str(s.text(col));
  }
}

void nullable(json::Out& out, std::string_view key, const std::optional<std::string>& v) {
  out.key(key);
  if (v) {
    out.str(*v);
  } else {
    out.w().Null();
  }
}

store::AuditEntry audit_of(const Exchange& ex, std::string action, std::string target_type,
                           std::string target_id, std::string details) {
  return {ex.who.workspace_id, std::move(action), ex.who.user_id, std::move(target_type), std::move(target_id),
          std::move(details)};
}

Status audited(store::Connection& w, Status st, const store::AuditEntry& e) {
  if (!st) return st;
  return store::insert_audit(w, e);
}

std::string details_of(std::initializer_list<std::pair<std::string_view, std::string_view>> members) {
  json::Out out;
  out.begin_object();
  for (const auto& [k, v] : members) out.member(k, v);
  out.end_object();
  return out.take();
}

const std::string_view kBadSlug =
    "slug must be 2-50 lowercase letters, digits, '-' or '_', starting with a letter or digit";

bool plausible_email(std::string_view e) {
  if (e.size() < 3 || e.size() > 254) return false;
  size_t at = e.find('@');
  if (at == 0 || at == std::string_view::npos || e.find('@', at + 1) != std::string_view::npos)
    return false;
  std::string_view domain = e.substr(at + 1);
  size_t dot = domain.find('.');
  if (domain.empty() || dot == 0 || dot == std::string_view::npos || domain.back() == '.')
    return false;
  for (char c : e)
    if (static_cast<unsigned char>(c) <= ' ' || c == '"' || c == ',' || c == '<' || c == '>')
      return false;
  return true;
}

bool read_grant(const ExchangePtr& ex, std::string* email, std::string* role) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return false;
  json::Field<std::string> e, r;
  json::Reader in(doc);
  in.string("email", &e, {.min = 3, .max = 254, .required = true})
      .one_of("role", &r, {"OWNER", "ADMIN", "MANAGER", "MEMBER", "VIEWER"}, {.required = true});
  if (!in.ok()) {
    reply_problem(ex, 400, in.error());
    return false;
  }
  if (!plausible_email(e.value)) {
    reply_problem(ex, 400, "email is not a valid address");
    return false;
  }
  if (r.value == "OWNER" && ex->who.role != Role::kOwner) {
    reply_problem(ex, 403, "only an OWNER can grant the OWNER role");
    return false;
  }
  *email = std::move(e.value);
  *role = std::move(r.value);
  return true;
}

void reply_secret(const ExchangePtr& ex, int status, const json::Out& out) {
  http::Response resp = http::Response::json(status, out.take());
  resp.headers.push_back({"Cache-Control", "no-store"});
  ex->respond(std::move(resp));
}

store::LicenseLimits license_limits(const Config& config) {
  return {config.license_max_agents, config.license_max_crews, config.license_max_members,
          config.license_max_workspaces};
}

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

bool check_name_and_slug(const ExchangePtr& ex, const json::Field<std::string>& name,
                         const json::Field<std::string>& slug) {
  if (name.has_value() && blank(name.value)) {
    reply_problem(ex, 400, "name must not be blank");
    return false;
  }
  if (slug.has_value() && !valid_slug(slug.value)) {
    reply_problem(ex, 400, kBadSlug);
    return false;
  }
  return true;
}

bool valid_slug(std::string_view slug) {
  if (slug.size() < 2 || slug.size() > 50) return false;
  for (size_t i = 0; i < slug.size(); ++i) {
    char c = slug[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '-' && c != '_'))) return false;
  }
  return true;
}

std::string slugify(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != '-') {
      out.push_back('-');
    }
    if (out.size() >= 50) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() < 2) out += out.empty() ? "ws" : "-ws";
  return out;
}

// Whether the caller operates the instance: the manage role (ADMIN or OWNER)
// in its first workspace, since any user may make a workspace of their own
// and a role there proves nothing. A store failure answers 500: nullopt.
std::optional<bool> operates_instance(App& app, const ExchangePtr& ex) {
  auto role_name = store::first_workspace_role(app.store.reader(), ex->who.user_id);
  if (!role_name && role_name.problem().status != 404) {
    reply_problem(ex, role_name.problem());
    return std::nullopt;
  }
  Role role = Role::kNone;
  return role_name && parse_role(*role_name, &role) && role >= kManage;
}

}  // namespace crewship::api
