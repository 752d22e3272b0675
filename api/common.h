// What public handlers share beyond daemon/handler.h (answers, body and
// paging input, writes through the store's writer): rows as JSON, slugs.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "daemon/app.h"
#include "daemon/handler.h"
#include "daemon/http_server.h"
#include "daemon/json.h"
#include "daemon/json_input.h"
#include "daemon/result.h"
#include "store/audit_store.h"
#include "store/db.h"
#include "store/license_store.h"
#include "store/writer.h"

namespace crewship::api {

// Writes key: the text of column col, or null when the column is NULL.
void nullable(json::Out& out, std::string_view key, const store::StmtLease& s, int col);

// Answers 200 with a bare JSON array, one element per item as write(out,
// item) writes it, or the problem that stopped the read.
template <class T, class Write>
void reply_list(const ExchangePtr& ex, const Result<std::vector<T>>& items, Write write) {
  if (!items) return reply_problem(ex, items.problem());
  json::Out out;
  out.begin_array();
  for (const T& item : *items) write(out, item);
  out.end_array();
  reply(ex, 200, out);
}

// Writes key: the string, or null when there is none.
void nullable(json::Out& out, std::string_view key, const std::optional<std::string>& v);

// Queues work returning a Result<T> or Status (see store::submit); done gets
// that result on the loop thread, a store failure when the commit failed.
template <class Work, class Done>
void submit(App& app, Work work, Done done) {
  store::submit(app.store.writer(), std::move(work), std::move(done));
}

// The audit row of a change the caller makes in their workspace (an internal
// caller has no user: actor_user_id stays empty). details is a JSON object
// or empty, and never holds a secret value.
store::AuditEntry audit_of(const Exchange& ex, std::string action, std::string target_type,
                           std::string target_id, std::string details = {});
// st, and when it is ok the audit row e written after it, in the same
// transaction.
Status audited(store::Connection& w, Status st, const store::AuditEntry& e);
// The JSON object of string members {k1: v1, k2: v2, ...}.
std::string details_of(std::initializer_list<std::pair<std::string_view, std::string_view>> members);

// Reads the body {email, role} of a membership grant (a member added, an
// invitation): answers 400 for a bad body, an implausible email or an
// unknown role, 403 when a non-OWNER grants OWNER, and returns false then.
bool read_grant(const ExchangePtr& ex, std::string* email, std::string* role);
// Answers status with out and Cache-Control: no-store: the one answer that
// shows a secret.
void reply_secret(const ExchangePtr& ex, int status, const json::Out& out);

// The licence limits CREWSHIP_LICENSE_MAX_* set, for a create's
// store::check_license_room in its writer transaction.
store::LicenseLimits license_limits(const Config& config);

// A text field's value, or none when it is absent, null or "".
std::optional<std::string> text_of(const json::Field<std::string>& f);

// The CLI adapters an agent or a crew template may name.
inline constexpr std::string_view kCliAdapters[] = {"CLAUDE_CODE", "CODEX_CLI",  "GEMINI_CLI",
                                                    "OPENCODE",    "CURSOR_CLI", "FACTORY_DROID"};

// ^[a-z0-9][a-z0-9_-]*$, 2-50 characters.
bool valid_slug(std::string_view slug);
extern const std::string_view kBadSlug;  // the 400 detail for an invalid slug
// Enough of an email address to catch typos and garbage (one @, a dotted
// domain, no spaces or quotes); real verification is the mail itself.
bool plausible_email(std::string_view e);
// Nothing but white space.
bool blank(std::string_view s);
// The checks every named resource shares: a present name is not blank and a
// present slug is valid. Answers 400 and returns false otherwise.
bool check_name_and_slug(const ExchangePtr& ex, const json::Field<std::string>& name,
                         const json::Field<std::string>& slug);
// A slug from a display name ("Backend Dev!" -> "backend-dev"), 2-50 chars.
std::string slugify(std::string_view name);

// Whether the caller operates the instance: the manage role (ADMIN or OWNER)
// in its first workspace. On a store failure it answers 500 and gives nullopt.
std::optional<bool> operates_instance(App& app, const ExchangePtr& ex);

}  // namespace crewship::api
