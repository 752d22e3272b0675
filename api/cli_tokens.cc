// CLI tokens: long-lived bearer tokens "crewship_cli_<64 hex>", shown once
// at creation and stored only as their SHA-256.
#include "api/auth.h"
#include "api/common.h"
#include "api/routes.h"
#include "daemon/crypto.h"
#include "daemon/ids.h"
#include "daemon/json_input.h"
#include "store/session_store.h"

namespace crewship::api {

// POST /api/v1/auth/cli-token {name?}. No body, as the overview shows it,
// (or no name) names the token cli-<date>.
void create_cli_token(App& app, const ExchangePtr& ex) {
  json::Field<std::string> name;
  if (!blank(ex->req.body)) {
    rapidjson::Document doc;
    if (!read_json(ex, &doc)) return;
    json::Reader r(doc);
    r.string("name", &name, {.min = 1, .max = 100, .nullable = false});
    if (!r.ok()) return reply_problem(ex, 400, r.error());
  }
  if (!name.present) name.value = "cli-" + now_rfc3339().substr(0, 10);
  std::string id = new_id(), token = std::string(kCliPrefix) + random_hex(32), now = now_rfc3339();
  std::string hash = crypto::hex(crypto::sha256(token));
  submit(
      app,
      [id, user = ex->who.user_id, name = name.value, hash, now](store::Connection& w) {
        return store::insert_cli_token(w, id, user, name, hash, now);
      },
      [ex, id, name = name.value, token, now](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        json::Out out;
        out.begin_object();
        out.member("id", id);
        out.member("name", name);
        out.member("token", token);
        out.member("created_at", now);
        out.end_object();
        reply_secret(ex, 201, out);
      });
}

// GET /api/v1/auth/cli-token/validate: who the presented credential is.
void validate_cli_token(App& app, const ExchangePtr& ex) {
  std::string token_name;
  if (ex->who.kind == Principal::Kind::kCliToken) {
    auto name = store::cli_token_name(app.store.reader(), ex->who.token_id);
    if (!name && name.problem().status != 404) return reply_problem(ex, name.problem());
    if (name) token_name = std::move(*name);
  }
  json::Out out;
  out.begin_object();
  out.member("valid", true);
  out.key("user");
  out.begin_object();
  out.member("id", ex->who.user_id);
  out.member("email", ex->who.email);
  out.member("name", ex->who.name);
  out.end_object();
  out.key("token");
  if (ex->who.kind == Principal::Kind::kCliToken) {
    out.begin_object();
    out.member("id", ex->who.token_id);
    out.member("name", token_name);
    out.end_object();
  } else {
    out.w().Null();  // a session, not a CLI token
  }
  out.end_object();
  reply(ex, 200, out);
}

// GET /api/v1/auth/cli-tokens: the caller's live tokens, never their secrets.
void list_cli_tokens(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  reply_list(ex, store::list_cli_tokens(app.store.reader(), ex->who.user_id, page.limit, page.offset),
             [](json::Out& out, const store::CliToken& t) {
               out.begin_object();
               out.member("id", t.id);
               out.member("name", t.name);
               out.member("created_at", t.created_at);
               nullable(out, "last_used_at", t.last_used_at);
               out.end_object();
             });
}

// DELETE /api/v1/auth/cli-tokens/{tokenId}: the token answers 401 from now on.
void revoke_cli_token(App& app, const ExchangePtr& ex) {
  std::string id(ex->req.param("tokenId"));
  submit(
      app,
      [id, user = ex->who.user_id](store::Connection& w) {
        return store::revoke_cli_token(w, id, user, now_rfc3339());
      },
      [&app, ex, id](Result<bool> revoked) {
        if (!revoked) return reply_problem(ex, revoked.problem());
        if (!*revoked) return reply_problem(ex, 404, "no such token");
        app.cli_token_touched.erase(id);
        reply_no_content(ex);
      });
}

}  // namespace crewship::api
