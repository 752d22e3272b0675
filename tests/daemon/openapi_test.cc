// The OpenAPI documents against the route tables: every route has a doc and
// every doc a route, on both listeners, and what the builder writes.
#include <criterion/criterion.h>

#include <string>

#include <rapidjson/document.h>

#include "api/bridge.h"    // App owns a Bridge
#include "api/realtime.h"  // and a Hub
#include "daemon/openapi_docs.h"
#include "daemon/routes.h"

using namespace crewship;
using M = http::Method;

namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += "\n  " + s;
  return out;
}

rapidjson::Document parsed(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  cr_assert(!doc.HasParseError() && doc.IsObject(), "the document is no JSON object");
  return doc;
}

}  // namespace

TestSuite(openapi);

Test(openapi, every_route_has_a_doc_and_every_doc_a_route) {
  App app;
  std::vector<Route> api = api_routes(app), ipc = ipc_routes(app);
  OpenApi built = build_openapi(app.config, api, ipc);
  cr_expect(built.api.undocumented.empty(), "public routes without a doc (add them to api/<area>_doc.cc):%s",
            joined(built.api.undocumented).c_str());
  cr_expect(built.ipc.undocumented.empty(), "IPC routes without a doc (add them to api/ or ipc/<area>_doc.cc):%s",
            joined(built.ipc.undocumented).c_str());
  cr_expect(built.unrouted.empty(), "docs that no route serves (a path or method changed?):%s",
            joined(built.unrouted).c_str());
  cr_expect(built.api.errors.empty(), "bad public docs:%s", joined(built.api.errors).c_str());
  cr_expect(built.ipc.errors.empty(), "bad IPC docs:%s", joined(built.ipc.errors).c_str());
}

Test(openapi, documents_hold_every_route_once_with_its_security) {
  App app;
  std::vector<Route> api = api_routes(app), ipc = ipc_routes(app);
  OpenApi built = build_openapi(app.config, api, ipc);
  for (auto [routes, json, internal] : {std::tuple{&api, &built.api.json, false}, std::tuple{&ipc, &built.ipc.json, true}}) {
    rapidjson::Document doc = parsed(*json);
    cr_assert_str_eq(doc["openapi"].GetString(), "3.1.0");
    size_t ops = 0;
    for (const auto& path : doc["paths"].GetObject()) {
      for (const auto& op : path.value.GetObject()) {
        ++ops;
        const rapidjson::Value& security = op.value["security"];
        cr_assert(security.IsArray());
        if (internal) {
          cr_expect(security.Size() == 1 && security[0].HasMember("internalToken"), "%s %s: not internalToken",
                    op.name.GetString(), path.name.GetString());
        }
        cr_expect(op.value["responses"].MemberCount() > 0, "%s has no responses", path.name.GetString());
      }
    }
    cr_expect_eq(ops, routes->size(), "one operation per route");
  }
}

Test(openapi, access_gives_security_and_guard_problems) {
  App app;
  std::vector<Route> api = api_routes(app), ipc = ipc_routes(app);
  rapidjson::Document doc = parsed(build_openapi(app.config, api, ipc).api.json);
  const rapidjson::Value& paths = doc["paths"];
  // Open: no security, no 401.
  const rapidjson::Value& health = paths["/api/health"]["get"];
  cr_expect(health["security"].Empty());
  cr_expect_not(health["responses"].HasMember("401"));
  // A MANAGER route: signed in, scoped by workspace, 400/401/403 problems.
  const rapidjson::Value& crew = paths["/api/v1/crews"]["post"];
  cr_expect_eq(crew["security"].Size(), 3u);
  for (const char* s : {"400", "401", "403", "413", "500"}) {
    cr_expect(crew["responses"].HasMember(s), "POST /api/v1/crews lacks %s", s);
  }
  bool workspace_param = false;
  for (const auto& p : crew["parameters"].GetArray())
    workspace_param = workspace_param || std::string(p["name"].GetString()) == "workspace_id";
  cr_expect(workspace_param);
  cr_expect(std::string(crew["description"].GetString()).find("MANAGER") != std::string::npos);
  // The webhook: its secret only.
  const rapidjson::Value& hook = paths["/api/v1/webhooks/{crewId}/{agentId}/trigger"]["post"];
  cr_expect(hook["security"][0].HasMember("webhookSecret"));
  // Path parameters come from the template.
  const rapidjson::Value& member = paths["/api/v1/workspaces/{workspaceId}/members/{memberId}"]["delete"];
  cr_expect_eq(member["parameters"].Size(), 2u);
}

Test(openapi, a_route_without_a_doc_is_named_and_still_listed) {
  openapi::DocSet docs;
  docs.add(M::kGet, "/a", "A").ok(200, "string");
  docs.add(M::kGet, "/gone", "Gone").ok(200, "string");
  Route routes[] = {{M::kGet, "/a", {}}, {M::kPost, "/b/{id}", {}}};
  openapi::Built b = openapi::build({"t", "d", routes, 1024}, docs);
  cr_assert_eq(b.undocumented.size(), 1u);
  cr_expect_str_eq(b.undocumented[0].c_str(), "POST /b/{id}");
  rapidjson::Document doc = parsed(b.json);
  cr_expect(doc["paths"]["/b/{id}"]["post"].HasMember("responses"));
  auto unrouted = openapi::unrouted(docs, {routes});
  cr_assert_eq(unrouted.size(), 1u);
  cr_expect_str_eq(unrouted[0].c_str(), "GET /gone");
}

Test(openapi, schema_text_shorthands_and_errors) {
  std::string error;
  std::string ref = openapi::expand_schema("Agent", &error), list = openapi::expand_schema("Agent[]", &error),
              type = openapi::expand_schema("string", &error),
              nested = openapi::expand_schema(R"({"properties":{"a":{"$ref":"X"},"b":{"$ref":"#/x"}}})", &error);
  cr_expect_str_eq(ref.c_str(), R"({"$ref":"#/components/schemas/Agent"})");
  cr_expect_str_eq(list.c_str(), R"({"type":"array","items":{"$ref":"#/components/schemas/Agent"}})");
  cr_expect_str_eq(type.c_str(), R"({"type":"string"})");
  cr_expect_str_eq(nested.c_str(), R"({"properties":{"a":{"$ref":"#/components/schemas/X"},"b":{"$ref":"#/x"}}})");
  cr_expect(openapi::expand_schema(R"({"type":)", &error).empty());
  cr_expect(!error.empty());

  openapi::DocSet docs;
  docs.schema("Known", R"({"type":"object"})");
  docs.add(M::kGet, "/a", "A").ok(200, "Unknown").ok(201, R"({"type":)");
  Route routes[] = {{M::kGet, "/a", {}}};
  openapi::Built b = openapi::build({"t", "d", routes, 1024}, docs);
  cr_expect_eq(b.errors.size(), 2u, "a bad ref and a bad text:%s", joined(b.errors).c_str());
}

Test(openapi, a_mount_reads_like_its_original_with_its_own_answer) {
  openapi::DocSet docs;
  docs.add(M::kGet, "/pub/{id}", "List").paged(20, 100).ok(200, "string[]").fails({404});
  docs.mount(M::kGet, "/internal/{id}", "/pub/{id}").instead(200, R"({"type":"object"})");
  const openapi::Doc* m = docs.find(M::kGet, "/internal/{id}");
  cr_assert(m != nullptr);
  cr_expect_str_eq(m->summary.c_str(), "List");
  cr_expect_eq(m->params.size(), 2u, "limit and offset");
  cr_assert_eq(m->answers.size(), 1u);
  cr_expect_str_eq(m->answers[0].schema.c_str(), R"({"type":"object"})");
  cr_expect_str_eq(docs.find(M::kGet, "/pub/{id}")->answers[0].schema.c_str(), "string[]");
}
