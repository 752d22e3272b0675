#include "store/license_store.h"

#include <string>

#include "store/query.h"

namespace crewship::store {
namespace {

const char* noun(Licensed kind) {
  switch (kind) {
    case Licensed::kAgents: return "agents";
    case Licensed::kCrews: return "crews";
    case Licensed::kMembers: return "members";
    case Licensed::kWorkspaces: return "workspaces";
  }
  return "";
}

const char* count_sql(Licensed kind) {
  switch (kind) {
    case Licensed::kAgents: return "SELECT count(*) FROM agents WHERE deleted_at IS NULL";
    case Licensed::kCrews: return "SELECT count(*) FROM crews WHERE deleted_at IS NULL";
    case Licensed::kMembers: return "SELECT count(DISTINCT user_id) FROM workspace_members";
    case Licensed::kWorkspaces: return "SELECT count(*) FROM workspaces";
  }
  return "SELECT 0";
}

Result<int64_t> count_of(Connection& c, Licensed kind) {
  auto s = c.prepare(count_sql(kind));
  if (auto st = first_row(c, s, "no count"); !st) return std::move(st).take_problem();
  return s.int64(0);
}

// Ok when adding more rows of kind to those there are stays within max.
Status within(Connection& w, Licensed kind, int64_t max, int64_t more) {
  auto n = count_of(w, kind);
  if (!n) return std::move(n).take_problem();
  if (*n + more > max)
    return fail(402, "license limit reached: at most " + std::to_string(max) + " " + noun(kind));
  return {};
}

}  // namespace

int64_t LicenseLimits::of(Licensed kind) const {
  switch (kind) {
    case Licensed::kAgents: return agents;
    case Licensed::kCrews: return crews;
    case Licensed::kMembers: return members;
    case Licensed::kWorkspaces: return workspaces;
  }
  return 0;
}

Result<LicenseUsage> license_usage(Connection& c) {
  LicenseUsage u;
  for (auto [kind, field] : {std::pair{Licensed::kAgents, &LicenseUsage::agents},
                             std::pair{Licensed::kCrews, &LicenseUsage::crews},
                             std::pair{Licensed::kMembers, &LicenseUsage::members},
                             std::pair{Licensed::kWorkspaces, &LicenseUsage::workspaces}}) {
    auto n = count_of(c, kind);
    if (!n) return std::move(n).take_problem();
    u.*field = *n;
  }
  return u;
}

Status check_license_room(Connection& w, const LicenseLimits& limits, Licensed kind,
                          std::string_view user_id) {
  int64_t max = limits.of(kind);
  if (max <= 0) return {};
  if (kind == Licensed::kMembers && !user_id.empty()) {
    auto seat = w.prepare("SELECT 1 FROM workspace_members WHERE user_id = ?1");
    seat.bind(1, user_id);
    auto has = exists(w, seat);
    if (!has) return std::move(has).take_problem();
    if (*has) return {};
  }
  return within(w, kind, max, 1);
}

Status check_license_kept(Connection& w, const LicenseLimits& limits, Licensed kind) {
  int64_t max = limits.of(kind);
  return max <= 0 ? Status{} : within(w, kind, max, 0);
}

}  // namespace crewship::store
