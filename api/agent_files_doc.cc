#include "api/docs.h"

namespace crewship::api::docs {

void agent_files(openapi::DocSet& d) {
  using M = http::Method;
  d.area("files");
  d.schema("AgentFile", R"({"type":"object","required":["path","name","size","is_dir","mod_time"],
    "properties":{"path":{"type":"string"},"name":{"type":"string"},"size":{"type":"integer"},"is_dir":{"type":"boolean"},
      "mod_time":{"$ref":"Timestamp"}}})");
  constexpr std::string_view kPath = "A relative path below the agent's directory, without '..'";
  d.add(M::kGet, "/api/v1/agents/{agentId}/files", "Entries of the agent's host workspace, sorted by path")
      .describe("[] while the agent's directory does not exist yet. A path leading outside it is 403.")
      .query("subdir", "string", kPath)
      .ok(200, "AgentFile[]")
      .fails({400, 403, 404, 409});
  d.add(M::kGet, "/api/v1/agents/{agentId}/files/download", "A file of the agent's host workspace")
      .query("path", "string", kPath, true)
      .raw(200, "application/octet-stream", R"({"type":"string","format":"binary"})", "The file, as an attachment")
      .fails({400, 403, 404, 409, 413});
  d.add(M::kPut, "/api/v1/agents/{agentId}/files/save", "Saves the body as a file, atomically")
      .describe("Missing directories are made. The body goes to a temporary file as it comes, never into memory.")
      .query("path", "string", kPath, true)
      .takes(R"({"type":"string","format":"binary"})", "application/octet-stream")
      .ok(200, R"({"type":"object","required":["path","size"],"properties":{"path":{"type":"string"},"size":{"type":"integer"}}})")
      .fails({403, 404, 409});
  d.mount(M::kGet, "/api/v1/internal/agents/{agentId}/files", "/api/v1/agents/{agentId}/files")
      .instead(200, R"({"type":"object","required":["files"],"properties":{"files":{"type":"array","items":{"$ref":"AgentFile"}}}})");
  d.mount(M::kGet, "/api/v1/internal/agents/{agentId}/files/download", "/api/v1/agents/{agentId}/files/download");
  d.mount(M::kPut, "/api/v1/internal/agents/{agentId}/files/save", "/api/v1/agents/{agentId}/files/save");
}

}  // namespace crewship::api::docs
