// CLI tokens: long-lived bearer tokens "crewship_cli_<64 hex>", shown once
// at creation and stored only as their SHA-256.
#include "api/auth.h"
#include "api/common.h"
#include "api/routes.h"
#include "daemon/crypto.h"
#include "daemon/ids.h"
#include "daemon/json_input.h"

namespace crewship::api {

// POST /api/v1/auth/cli-token {name}
void create_cli_token(App& app, const ExchangePtr& ex) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return;
  json::Field<std::string> name;
  json::Reader r(doc);
  r.string("name", &name, {.min = 1, .max = 100, .required = true});
  if (!r.ok()) return reply_problem(ex, 400, r.error());
  std::string id = new_id(), token = std::string(kCliPrefix) + random_hex(32), now = now_rfc3339();
  std::string hash = crypto::hex(crypto::sha256(token));
  write(
      app,
      [id, user = ex->who.user_id, name = name.value, hash, now](store::Connection& db) {
        auto s = db.prepare(
            "INSERT INTO cli_tokens(id, user_id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
        s.bind(1, id);
        s.bind(2, user);
        s.bind(3, name);
        s.bind(4, hash);
        s.bind(5, now);
        return s.step() == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(db.db());
      },
      [ex, id, name = name.value, token, now](int rc) {
        if (rc != SQLITE_OK) return reply_store_error(ex, rc);
        json::Out out;
        out.begin_object();
        out.member("id", id);
        out.member("name", name);
        out.member("token", token);
        out.member("created_at", now);
        out.end_object();
        http::Response resp = http::Response::json(201, out.take());
        resp.headers.push_back({"Cache-Control", "no-store"});
        ex->respond(std::move(resp));
      });
}

// GET /api/v1/auth/cli-token/validate: who the presented credential is.
void validate_cli_token(App& app, const ExchangePtr& ex) {
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
    auto s = app.store.reader().prepare("SELECT name FROM cli_tokens WHERE id = ?1");
    s.bind(1, ex->who.token_id);
    out.begin_object();
    out.member("id", ex->who.token_id);
    out.member("name", s.step() == SQLITE_ROW ? s.text(0) : std::string_view());
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
  auto s = app.store.reader().prepare(
      "SELECT id, name, created_at, last_used_at FROM cli_tokens"
      " WHERE user_id = ?1 AND revoked_at IS NULL ORDER BY created_at, id LIMIT ?2 OFFSET ?3");
  s.bind(1, ex->who.user_id);
  s.bind(2, page.limit);
  s.bind(3, page.offset);
  reply_rows(ex, s, {"id", "name", "created_at", "last_used_at"});
}

// DELETE /api/v1/auth/cli-tokens/{tokenId}: the token answers 401 from now on.
void revoke_cli_token(App& app, const ExchangePtr& ex) {
  std::string id(ex->req.param("tokenId"));
  auto found = std::make_shared<bool>(false);
  write(
      app,
      [id, user = ex->who.user_id, found](store::Connection& db) {
        auto s = db.prepare(
            "UPDATE cli_tokens SET revoked_at = ?3 WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL");
        s.bind(1, id);
        s.bind(2, user);
        s.bind(3, now_rfc3339());
        if (s.step() != SQLITE_DONE) return sqlite3_extended_errcode(db.db());
        *found = sqlite3_changes(db.db()) == 1;
        return SQLITE_OK;
      },
      [&app, ex, id, found](int rc) {
        if (rc != SQLITE_OK) return reply_store_error(ex, rc);
        if (!*found) return reply_problem(ex, 404, "no such token");
        app.cli_token_touched.erase(id);
        reply_no_content(ex);
      });
}

}  // namespace crewship::api
