#include "daemon/openapi.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "daemon/principal.h"

namespace crewship::openapi {
namespace {

using rapidjson::Value;
using Alloc = rapidjson::Document::AllocatorType;

constexpr std::string_view kSchemas = "#/components/schemas/";

std::string key_of(http::Method m, std::string_view path) {
  return std::string(http::method_name(m)) + " " + std::string(path);
}

bool is_type_name(std::string_view s) {
  return s == "string" || s == "integer" || s == "number" || s == "boolean" || s == "object";
}

// Points every "$ref" that names a component at components/schemas.
void expand_refs(Value& v, Alloc& a) {
  if (v.IsArray()) {
    for (auto& e : v.GetArray()) expand_refs(e, a);
    return;
  }
  if (!v.IsObject()) return;
  for (auto& m : v.GetObject()) {
    if (std::string_view(m.name.GetString()) == "$ref" && m.value.IsString() && m.value.GetString()[0] != '#') {
      std::string ref = std::string(kSchemas) + m.value.GetString();
      m.value.SetString(ref.c_str(), static_cast<rapidjson::SizeType>(ref.size()), a);
    } else {
      expand_refs(m.value, a);
    }
  }
}

bool parse_schema(std::string_view text, Value* out, Alloc& a, std::string* error) {
  std::string json;
  if (!text.empty() && text.front() != '{') {
    bool array = text.size() > 2 && text.substr(text.size() - 2) == "[]";
    std::string_view name = array ? text.substr(0, text.size() - 2) : text;
    std::string item = is_type_name(name) ? R"({"type":")" + std::string(name) + "\"}"
                                          : R"({"$ref":")" + std::string(name) + "\"}";
    json = array ? R"({"type":"array","items":)" + item + "}" : item;
  } else {
    json = text;
  }
  rapidjson::Document doc(&a);
  doc.Parse(json.c_str(), json.size());
  if (doc.HasParseError()) {
    *error = std::string(rapidjson::GetParseError_En(doc.GetParseError())) + " at offset " +
             std::to_string(doc.GetErrorOffset()) + " of " + std::string(text.substr(0, 60));
    return false;
  }
  if (!doc.IsObject()) {
    *error = "a schema is an object: " + std::string(text.substr(0, 60));
    return false;
  }
  expand_refs(doc, a);
  out->CopyFrom(doc, a);
  return true;
}

// Every "$ref" into components/schemas names one that exists.
void check_refs(const Value& v, const std::set<std::string>& names, const std::string& where,
                std::vector<std::string>* errors) {
  if (v.IsArray()) {
    for (const auto& e : v.GetArray()) check_refs(e, names, where, errors);
  } else if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      std::string_view key = m.name.GetString();
      if (key == "$ref" && m.value.IsString()) {
        std::string_view ref = m.value.GetString();
        if (ref.substr(0, kSchemas.size()) == kSchemas && !names.count(std::string(ref.substr(kSchemas.size()))))
          errors->push_back(where + ": no schema " + std::string(ref.substr(kSchemas.size())));
      } else {
        check_refs(m.value, names, where, errors);
      }
    }
  }
}

Value str(std::string_view s, Alloc& a) { return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a); }

// getApiV1AgentsByAgentIdLogs for GET /api/v1/agents/{agentId}/logs.
std::string operation_id(http::Method m, std::string_view path) {
  std::string id(http::method_name(m));
  std::transform(id.begin(), id.end(), id.begin(), [](unsigned char c) { return std::tolower(c); });
  bool upper = true;
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '{') {
      id += "By";
      upper = true;
    } else if (std::isalnum(static_cast<unsigned char>(c))) {
      id += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    } else {
      upper = true;
    }
  }
  if (path.size() > 1 && path.back() == '/') id += "Index";
  return id;
}

std::vector<std::string> path_params(std::string_view path) {
  std::vector<std::string> out;
  for (size_t open = path.find('{'); open != std::string_view::npos; open = path.find('{', open + 1)) {
    size_t close = path.find('}', open);
    if (close == std::string_view::npos) break;
    out.emplace_back(path.substr(open + 1, close - open - 1));
  }
  return out;
}

Value param(std::string_view name, std::string_view in, Value schema, std::string_view description, bool required,
            Alloc& a) {
  Value p(rapidjson::kObjectType);
  p.AddMember("name", str(name, a), a);
  p.AddMember("in", str(in, a), a);
  if (!description.empty()) p.AddMember("description", str(description, a), a);
  p.AddMember("required", required, a);
  p.AddMember("schema", schema, a);
  return p;
}

Value type_schema(std::string_view type, Alloc& a) {
  Value s(rapidjson::kObjectType);
  s.AddMember("type", str(type, a), a);
  return s;
}

Value content(std::string_view type, Value schema, Alloc& a) {
  Value media(rapidjson::kObjectType);
  media.AddMember("schema", schema, a);
  Value c(rapidjson::kObjectType);
  c.AddMember(str(type, a), media, a);
  return c;
}

Value security(const Access* access, Alloc& a) {
  Value list(rapidjson::kArrayType);
  auto add = [&](std::string_view scheme) {
    Value req(rapidjson::kObjectType);
    req.AddMember(str(scheme, a), Value(rapidjson::kArrayType), a);
    list.PushBack(req, a);
  };
  Auth auth = access != nullptr ? access->auth : Auth::kNone;
  switch (auth) {
    case Auth::kNone: break;
    case Auth::kUser:
      add("sessionCookie");
      add("sessionBearer");
      add("cliToken");
      break;
    case Auth::kInternal: add("internalToken"); break;
    case Auth::kWebhook: add("webhookSecret"); break;
  }
  return list;
}

// The problems a route's guard answers before its handler runs, and those
// the HTTP core answers for any request (malformed: 400, too slow: 408, a
// body over the route's limit: 413, a target too long: 414, an Expect it does
// not know: 417, headers over their limits: 431).
void guard_problems(const Access* access, std::set<int>* out) {
  out->insert({400, 408, 413, 414, 417, 431});
  Auth auth = access != nullptr ? access->auth : Auth::kNone;
  if (auth == Auth::kUser) out->insert({401, 403, 415, 500});
  if (auth == Auth::kInternal) out->insert({401, 429, 500});
  if (auth == Auth::kWebhook) out->insert({401, 404, 429, 500});
  if (access != nullptr && access->min_role != Role::kNone) out->insert({400, 403});
}

// The body of every error answer, as daemon/problem.cc writes it.
constexpr std::string_view kProblem = R"({"type":"object",
  "description":"RFC 9457 problem details; error repeats detail for older clients",
  "required":["type","title","status","detail","instance","error"],
  "properties":{"type":{"type":"string"},"title":{"type":"string"},"status":{"type":"integer"},
    "detail":{"type":"string"},"instance":{"type":"string"},"error":{"type":"string"}}})";

Value components(const DocSet& docs, Alloc& a, std::vector<std::string>* errors) {
  Value schemas(rapidjson::kObjectType);
  Value problem_schema;
  std::string never;  // kProblem parses
  parse_schema(kProblem, &problem_schema, a, &never);
  schemas.AddMember("Problem", problem_schema, a);
  for (const auto& [name, text] : docs.schemas()) {
    Value s;
    std::string error;
    if (!parse_schema(text, &s, a, &error)) {
      errors->push_back("schema " + name + ": " + error);
      continue;
    }
    schemas.AddMember(str(name, a), s, a);
  }
  Value c(rapidjson::kObjectType);
  c.AddMember("schemas", schemas, a);

  rapidjson::Document schemes(&a);
  schemes.Parse(R"({
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "authjs.session-token",
      "description": "The session JWT from sign-in (__Secure-authjs.session-token over HTTPS). A mutation it signs must come from this origin and send application/json."},
    "sessionBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
      "description": "The same session JWT as Authorization: Bearer."},
    "cliToken": {"type": "http", "scheme": "bearer", "bearerFormat": "crewship_cli_<64 hex>",
      "description": "A CLI token from POST /api/v1/auth/cli-token."},
    "webhookSecret": {"type": "apiKey", "in": "header", "name": "X-Webhook-Secret",
      "description": "The agent's webhook secret (POST /api/v1/agents/{agentId}/webhook-secret)."},
    "internalToken": {"type": "apiKey", "in": "header", "name": "X-Internal-Token",
      "description": "The master internal token, or a crew- or workspace-bound token derived from it; scope comes from the token."},
    "wsToken": {"type": "apiKey", "in": "query", "name": "token",
      "description": "A 15-minute token from GET /api/v1/ws-token."}
  })");
  c.AddMember("securitySchemes", Value(schemes, a), a);

  Value problem(rapidjson::kObjectType);
  problem.AddMember("description", "An RFC 9457 problem", a);
  Value ref(rapidjson::kObjectType);
  ref.AddMember("$ref", "#/components/schemas/Problem", a);
  problem.AddMember("content", content("application/problem+json", std::move(ref), a), a);
  Value responses(rapidjson::kObjectType);
  responses.AddMember("Problem", problem, a);
  c.AddMember("responses", responses, a);
  return c;
}

Value operation(const Route& route, const Doc* doc, int64_t default_limit, Alloc& a, std::vector<std::string>* errors) {
  std::string where = key_of(route.method, route.pattern);
  auto schema_of = [&](std::string_view text, std::string_view what) {
    Value s;
    std::string error;
    if (!parse_schema(text, &s, a, &error)) {
      errors->push_back(where + " " + std::string(what) + ": " + error);
      s = type_schema("object", a);
    }
    return s;
  };
  const auto* access = static_cast<const Access*>(route.policy);
  Value op(rapidjson::kObjectType);
  if (doc != nullptr && !doc->tag.empty()) {
    Value tags(rapidjson::kArrayType);
    tags.PushBack(str(doc->tag, a), a);
    op.AddMember("tags", tags, a);
  }
  op.AddMember("summary", str(doc != nullptr ? doc->summary : "Undocumented", a), a);
  std::string description = doc != nullptr ? doc->description : std::string();
  if (access != nullptr && access->min_role != Role::kNone) {
    if (!description.empty()) description += "\n\n";
    description += "Needs the " + std::string(role_name(access->min_role)) + " role or higher in the workspace.";
  }
  if (!description.empty()) op.AddMember("description", str(description, a), a);
  op.AddMember("operationId", str(operation_id(route.method, route.pattern), a), a);

  Value params(rapidjson::kArrayType);
  std::vector<std::string> in_path = path_params(route.pattern);
  for (const std::string& name : in_path) params.PushBack(param(name, "path", type_schema("string", a), {}, true, a), a);
  bool scoped = access != nullptr && access->min_role != Role::kNone;
  if (scoped && std::find(in_path.begin(), in_path.end(), "workspaceId") == in_path.end()) {
    params.PushBack(param("workspace_id", "query", type_schema("string", a),
                          "The workspace acted in (else the X-Workspace-ID header)", false, a),
                    a);
    params.PushBack(param("X-Workspace-ID", "header", type_schema("string", a), "The workspace acted in", false, a),
                    a);
  }
  if (doc != nullptr) {
    for (const Param& p : doc->params)
      params.PushBack(param(p.name, p.in, schema_of(p.schema, p.name), p.description, p.required, a), a);
  }
  if (!params.Empty()) op.AddMember("parameters", params, a);

  bool body = doc != nullptr && !doc->bodies.empty();
  if (body) {
    Value rb(rapidjson::kObjectType), types(rapidjson::kObjectType);
    for (const auto& [type, schema] : doc->bodies) {
      Value media(rapidjson::kObjectType);
      media.AddMember("schema", schema_of(schema, "body"), a);
      types.AddMember(str(type, a), media, a);
    }
    rb.AddMember("required", doc->body_required, a);
    rb.AddMember("content", types, a);
    op.AddMember("requestBody", rb, a);
    op.AddMember("x-body-limit", route.body_limit > 0 ? route.body_limit : default_limit, a);
  }

  Value responses(rapidjson::kObjectType);
  std::set<int> problems;
  guard_problems(access, &problems);
  if (doc != nullptr) problems.insert(doc->problems.begin(), doc->problems.end());
  if (doc != nullptr) {
    for (const Answer& ans : doc->answers) {
      problems.erase(ans.status);
      Value r(rapidjson::kObjectType);
      std::string text = ans.description.empty() ? std::string(http::reason_phrase(ans.status)) : ans.description;
      r.AddMember("description", str(text, a), a);
      if (!ans.schema.empty()) r.AddMember("content", content(ans.type, schema_of(ans.schema, "answer"), a), a);
      std::string status = std::to_string(ans.status);
      auto known = responses.FindMember(status.c_str());
      if (known == responses.MemberEnd()) {
        responses.AddMember(str(status, a), r, a);
      } else if (!r.HasMember("content") || !known->value.HasMember("content") ||
                 known->value["content"].HasMember(ans.type.c_str())) {
        errors->push_back(where + ": status " + status + " documented twice");
      } else {
        // Another media type of the same status.
        for (auto& m : r["content"].GetObject()) known->value["content"].AddMember(m.name, m.value, a);
      }
    }
  }
  for (int status : problems) {
    Value r(rapidjson::kObjectType);
    r.AddMember("$ref", "#/components/responses/Problem", a);
    responses.AddMember(str(std::to_string(status), a), r, a);
  }
  if (responses.ObjectEmpty()) {
    Value r(rapidjson::kObjectType);
    r.AddMember("description", "Undocumented", a);
    responses.AddMember("default", r, a);
  }
  op.AddMember("responses", responses, a);
  op.AddMember("security", security(access, a), a);
  if (route.pattern == "/ws" && access == nullptr) {
    // The public WebSocket's token travels in the query, checked by the handler.
    Value list(rapidjson::kArrayType), req(rapidjson::kObjectType);
    req.AddMember("wsToken", Value(rapidjson::kArrayType), a);
    list.PushBack(req, a);
    op["security"] = list;
  }
  return op;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

Doc& Doc::describe(std::string_view text) {
  description = text;
  return *this;
}

Doc& Doc::query(std::string_view name, std::string_view schema, std::string_view desc, bool required) {
  params.push_back({std::string(name), "query", std::string(schema), std::string(desc), required});
  return *this;
}

Doc& Doc::header(std::string_view name, std::string_view schema, std::string_view desc, bool required) {
  params.push_back({std::string(name), "header", std::string(schema), std::string(desc), required});
  return *this;
}

Doc& Doc::paged(int64_t default_limit, int64_t max_limit) {
  query("limit", R"({"type":"integer","minimum":1,"default":)" + std::to_string(default_limit) + "}",
        "At most this many (clamped to " + std::to_string(max_limit) + ")");
  query("offset", R"({"type":"integer","minimum":0,"default":0})", "Skip this many");
  return fails({400});
}

Doc& Doc::takes(std::string_view schema, std::string_view type) {
  bodies.emplace_back(type, schema);
  return *this;
}

Doc& Doc::optional_body() {
  body_required = false;
  return *this;
}

Doc& Doc::ok(int status, std::string_view schema, std::string_view desc) {
  return raw(status, schema.empty() ? "" : "application/json", schema, desc);
}

Doc& Doc::raw(int status, std::string_view type, std::string_view schema, std::string_view desc) {
  answers.push_back({status, std::string(schema), std::string(type), std::string(desc)});
  return *this;
}

Doc& Doc::fails(std::initializer_list<int> statuses) {
  problems.insert(problems.end(), statuses);
  return *this;
}

Doc& Doc::instead(int status, std::string_view schema) {
  std::erase_if(answers, [status](const Answer& a) { return a.status == status; });
  return ok(status, schema);
}

Doc& DocSet::add(http::Method method, std::string_view path, std::string_view summary) {
  auto& d = docs_.emplace_back(std::make_unique<Doc>());
  d->method = method;
  d->path = path;
  d->tag = tag_;
  d->summary = summary;
  return *d;
}

Doc& DocSet::mount(http::Method method, std::string_view path, std::string_view of) {
  const Doc* src = find(method, of);
  auto& d = docs_.emplace_back(std::make_unique<Doc>(src != nullptr ? *src : Doc{}));
  d->method = method;
  d->path = path;
  if (src == nullptr) d->summary = "Undocumented: " + std::string(of) + " has no doc";
  return *d;
}

void DocSet::schema(std::string_view name, std::string_view text) { schemas_.emplace_back(name, text); }

const Doc* DocSet::find(http::Method method, std::string_view path) const {
  for (const auto& d : docs_)
    if (d->method == method && d->path == path) return d.get();
  return nullptr;
}

Built build(const Listener& listener, const DocSet& docs) {
  Built out;
  rapidjson::Document doc(rapidjson::kObjectType);
  Alloc& a = doc.GetAllocator();
  doc.AddMember("openapi", "3.1.0", a);
  Value info(rapidjson::kObjectType);
  info.AddMember("title", str(listener.title, a), a);
  info.AddMember("version", CREWSHIPD_VERSION, a);
  info.AddMember("description", str(listener.description, a), a);
  doc.AddMember("info", info, a);

  Value paths(rapidjson::kObjectType);
  std::set<std::string> tags;
  for (const Route& route : listener.routes) {
    const Doc* d = docs.find(route.method, route.pattern);
    if (d == nullptr) out.undocumented.push_back(key_of(route.method, route.pattern));
    if (d != nullptr && !d->tag.empty()) tags.insert(d->tag);
    std::string path(route.pattern);
    if (!paths.HasMember(path.c_str())) paths.AddMember(str(path, a), Value(rapidjson::kObjectType), a);
    paths[path.c_str()].AddMember(str(lower(http::method_name(route.method)), a),
                                  operation(route, d, listener.default_body_limit, a, &out.errors), a);
  }
  Value tag_list(rapidjson::kArrayType);
  for (const std::string& t : tags) {
    Value tag(rapidjson::kObjectType);
    tag.AddMember("name", str(t, a), a);
    tag_list.PushBack(tag, a);
  }
  doc.AddMember("tags", tag_list, a);
  doc.AddMember("paths", paths, a);
  doc.AddMember("components", components(docs, a, &out.errors), a);

  std::set<std::string> names = {"Problem"};
  for (const auto& [name, text] : docs.schemas()) {
    if (!names.insert(name).second) out.errors.push_back("schema " + name + " defined twice");
  }
  check_refs(doc, names, "document", &out.errors);

  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  doc.Accept(w);
  out.json.assign(buf.GetString(), buf.GetSize());
  return out;
}

std::vector<std::string> unrouted(const DocSet& docs, std::initializer_list<std::span<const Route>> tables) {
  std::vector<std::string> out;
  for (const auto& d : docs.docs()) {
    bool served = false;
    for (const auto& table : tables)
      for (const Route& r : table) served = served || (r.method == d->method && r.pattern == d->path);
    if (!served) out.push_back(key_of(d->method, d->path));
  }
  return out;
}

std::string expand_schema(std::string_view text, std::string* error) {
  rapidjson::Document doc;
  Value v;
  if (!parse_schema(text, &v, doc.GetAllocator(), error)) return {};
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace crewship::openapi
