#include "store/template_store.h"

#include "store/query.h"

namespace crewship::store {
namespace {

constexpr const char* kModel = "claude-sonnet-4-20250514";

CrewTemplate builtin(const char* slug, const char* name, const char* role_title, const char* prompt) {
  CrewTemplate t;
  t.slug = slug;
  t.name = name;
  t.role_title = role_title;
  t.system_prompt = prompt;
  t.llm_model = kModel;
  t.built_in = true;
  return t;
}

const std::vector<CrewTemplate>& builtins() {
  static const std::vector<CrewTemplate> kAll = {
      builtin("backend-dev", "Backend Developer", "Backend Developer",
              "You are a backend developer. You design and build services, APIs and data models,"
              " write tests for what you change, and keep changes small and reviewable."),
      builtin("frontend-dev", "Frontend Developer", "Frontend Developer",
              "You are a frontend developer. You build accessible, fast user interfaces, keep"
              " components small, and test what the user sees."),
      builtin("reviewer", "Code Reviewer", "Code Reviewer",
              "You are a code reviewer. You read changes for correctness, security and clarity,"
              " and say precisely what must change and why."),
      builtin("qa-engineer", "QA Engineer", "QA Engineer",
              "You are a QA engineer. You find how things break: you write reproducible test"
              " cases, automate them, and report each defect with the steps to see it."),
  };
  return kAll;
}

const CrewTemplate* find_builtin(std::string_view slug) {
  for (const CrewTemplate& t : builtins()) {
    if (t.slug == slug) return &t;
  }
  return nullptr;
}

#define TEMPLATE_COLUMNS \
  "id, workspace_id, slug, name, role_title, system_prompt, cli_adapter, llm_model, created_by_user_id, created_at"

CrewTemplate read_template(const StmtLease& r) {
  CrewTemplate t;
  t.id = std::string(r.text(0));
  t.workspace_id = std::string(r.text(1));
  t.slug = r.text(2);
  t.name = r.text(3);
  t.role_title = opt_text(r, 4);
  t.system_prompt = opt_text(r, 5);
  t.cli_adapter = r.text(6);
  t.llm_model = opt_text(r, 7);
  t.created_by_user_id = opt_text(r, 8);
  t.created_at = std::string(r.text(9));
  return t;
}

}  // namespace

std::span<const CrewTemplate> builtin_templates() { return builtins(); }

Result<std::vector<CrewTemplate>> list_templates(Connection& c, std::string_view workspace_id) {
  auto s = c.prepare("SELECT " TEMPLATE_COLUMNS
                     " FROM crew_templates WHERE workspace_id = ?1 ORDER BY created_at, rowid");
  s.bind(1, workspace_id);
  auto owned = collect(c, s, read_template);
  if (!owned) return std::move(owned).take_problem();
  std::vector<CrewTemplate> out(builtins().begin(), builtins().end());
  for (CrewTemplate& t : *owned) out.push_back(std::move(t));
  return out;
}

Result<CrewTemplate> find_template(Connection& c, std::string_view workspace_id, std::string_view slug) {
  if (const CrewTemplate* t = find_builtin(slug)) return *t;
  auto s = c.prepare("SELECT " TEMPLATE_COLUMNS " FROM crew_templates WHERE workspace_id = ?1 AND slug = ?2");
  s.bind_all(workspace_id, slug);
  if (auto st = first_row(c, s, "template not found"); !st) return std::move(st).take_problem();
  return read_template(s);
}

Status insert_template(Connection& w, const CrewTemplate& t) {
  if (find_builtin(t.slug) != nullptr) return fail(409, "slug is taken by a built-in template");
  auto s = w.prepare(
      "INSERT INTO crew_templates(id, workspace_id, slug, name, role_title, system_prompt, cli_adapter,"
      " llm_model, created_by_user_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  s.bind_all(t.id.value_or(""), t.workspace_id.value_or(""), t.slug, t.name);
  bind_opt(s, 5, t.role_title);
  bind_opt(s, 6, t.system_prompt);
  s.bind(7, t.cli_adapter);
  bind_opt(s, 8, t.llm_model);
  bind_opt(s, 9, t.created_by_user_id);
  s.bind(10, t.created_at.value_or(""));
  int rc = s.step();
  if (rc == SQLITE_DONE) return {};
  rc = last_error(w, rc);
  if (rc == SQLITE_CONSTRAINT_UNIQUE) return fail(409, "slug is already taken");
  return store_failure(w, rc);
}

}  // namespace crewship::store
