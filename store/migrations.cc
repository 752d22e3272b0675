#include "store/migrations.h"

namespace crewship::store {
namespace {

// Append only: a released migration is never edited.
const Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES
  ('instance_id', lower(hex(randomblob(16)))),
  ('created_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
)sql"},
    {2, R"sql(
CREATE TABLE users (
  id             TEXT PRIMARY KEY,
  email          TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name           TEXT,
  password_hash  TEXT NOT NULL,
  failed_logins  INTEGER NOT NULL DEFAULT 0,
  locked_until   INTEGER NOT NULL DEFAULT 0,  -- unix seconds
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL
) STRICT;

CREATE TABLE user_sessions (
  id          TEXT PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind        TEXT NOT NULL DEFAULT 'session',
  created_at  TEXT NOT NULL,
  expires_at  INTEGER NOT NULL,  -- unix seconds
  revoked_at  TEXT
) STRICT;
CREATE INDEX user_sessions_user ON user_sessions(user_id);

CREATE TABLE cli_tokens (
  id            TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  token_hash    TEXT NOT NULL UNIQUE,  -- SHA-256 hex of the token
  created_at    TEXT NOT NULL,
  last_used_at  TEXT,
  revoked_at    TEXT
) STRICT;
CREATE INDEX cli_tokens_user ON cli_tokens(user_id);

CREATE TABLE workspaces (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  slug        TEXT NOT NULL UNIQUE,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
) STRICT;

CREATE TABLE workspace_members (
  id            TEXT PRIMARY KEY,
  workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role          TEXT NOT NULL CHECK (role IN ('OWNER','ADMIN','MANAGER','MEMBER','VIEWER')),
  created_at    TEXT NOT NULL,
  UNIQUE (workspace_id, user_id)
) STRICT;
CREATE INDEX workspace_members_user ON workspace_members(user_id);

CREATE TABLE crews (
  id                    TEXT PRIMARY KEY,
  workspace_id          TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  name                  TEXT NOT NULL,
  slug                  TEXT NOT NULL,
  description           TEXT,
  color                 TEXT,
  avatar_style          TEXT,
  autonomy_level        TEXT NOT NULL DEFAULT 'guided'
                        CHECK (autonomy_level IN ('strict','guided','trusted','full')),
  max_ephemeral_agents  INTEGER NOT NULL DEFAULT 3,
  container_memory_mb   INTEGER NOT NULL DEFAULT 4096,
  container_cpus        REAL NOT NULL DEFAULT 2.0,
  created_by_user_id    TEXT,
  created_at            TEXT NOT NULL,
  updated_at            TEXT NOT NULL,
  deleted_at            TEXT
) STRICT;
CREATE UNIQUE INDEX crews_slug ON crews(workspace_id, slug) WHERE deleted_at IS NULL;
CREATE INDEX crews_workspace ON crews(workspace_id, created_at);

CREATE TABLE crew_members (
  crew_id     TEXT NOT NULL REFERENCES crews(id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role        TEXT NOT NULL CHECK (role IN ('OWNER','ADMIN','MEMBER')),
  created_at  TEXT NOT NULL,
  PRIMARY KEY (crew_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE agents (
  id                  TEXT PRIMARY KEY,
  workspace_id        TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  crew_id             TEXT REFERENCES crews(id),
  name                TEXT NOT NULL,
  slug                TEXT NOT NULL,
  description         TEXT,
  role_title          TEXT,
  agent_role          TEXT NOT NULL DEFAULT 'AGENT' CHECK (agent_role IN ('AGENT','LEAD')),
  lead_mode           TEXT CHECK (lead_mode IN ('active','passive')),
  status              TEXT NOT NULL DEFAULT 'IDLE',
  cli_adapter         TEXT NOT NULL DEFAULT 'CLAUDE_CODE',
  llm_provider        TEXT,
  llm_model           TEXT,
  system_prompt       TEXT,
  avatar_seed         TEXT,
  avatar_style        TEXT,
  timeout_seconds     INTEGER NOT NULL DEFAULT 1800,
  tool_profile        TEXT NOT NULL DEFAULT 'CODING',
  memory_enabled      INTEGER NOT NULL DEFAULT 0,
  cli_tools           TEXT,
  schedule_cron       TEXT,
  schedule_prompt     TEXT,
  schedule_enabled    INTEGER NOT NULL DEFAULT 0,
  schedule_last_run   TEXT,
  schedule_next_run   TEXT,
  mcp_config_json     TEXT,
  created_by_user_id  TEXT,
  ephemeral           INTEGER NOT NULL DEFAULT 0,
  expires_at          TEXT,
  expired_at          TEXT,
  parent_lead_id      TEXT,
  hire_reason         TEXT,
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL,
  deleted_at          TEXT
) STRICT;
CREATE UNIQUE INDEX agents_slug ON agents(workspace_id, slug) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX agents_one_lead ON agents(crew_id)
  WHERE agent_role = 'LEAD' AND deleted_at IS NULL;
CREATE INDEX agents_workspace ON agents(workspace_id, created_at);
CREATE INDEX agents_crew ON agents(crew_id);

-- Assignments counted in an agent's _count; their own endpoints come later.
CREATE TABLE agent_skills (
  id          TEXT PRIMARY KEY,
  agent_id    TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  skill_id    TEXT NOT NULL,
  config      TEXT,
  created_at  TEXT NOT NULL,
  UNIQUE (agent_id, skill_id)
) STRICT;
CREATE TABLE agent_credentials (
  id             TEXT PRIMARY KEY,
  agent_id       TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  credential_id  TEXT NOT NULL,
  env_var_name   TEXT NOT NULL,
  priority       INTEGER NOT NULL DEFAULT 0,
  created_at     TEXT NOT NULL,
  UNIQUE (agent_id, credential_id)
) STRICT;
CREATE TABLE chats (
  id            TEXT PRIMARY KEY,
  agent_id      TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  workspace_id  TEXT NOT NULL,
  title         TEXT,
  created_at    TEXT NOT NULL
) STRICT;
CREATE INDEX chats_agent ON chats(agent_id);
-- Admission-queue assignments; crews-status counts those QUEUED.
CREATE TABLE assignments (
  id            TEXT PRIMARY KEY,
  workspace_id  TEXT NOT NULL,
  agent_id      TEXT,
  status        TEXT NOT NULL,
  created_at    TEXT NOT NULL
) STRICT;
CREATE INDEX assignments_status ON assignments(workspace_id, status);
)sql"},
    {3, R"sql(
CREATE TABLE agent_status (
  agent_id      TEXT PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
  workspace_id  TEXT NOT NULL,
  crew_id       TEXT,
  status        TEXT NOT NULL CHECK (status IN ('online','busy','blocked','offline')),
  since         TEXT NOT NULL,     -- RFC 3339, 9 fractional digits: sorts as text
  last_seen     INTEGER NOT NULL,  -- unix milliseconds
  details       TEXT               -- a JSON object, or NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX agent_status_workspace ON agent_status(workspace_id, status);
CREATE INDEX agent_status_crew ON agent_status(crew_id, status);
CREATE INDEX agent_status_seen ON agent_status(last_seen) WHERE status != 'offline';

CREATE TABLE journal (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id  TEXT NOT NULL,
  crew_id       TEXT,
  agent_id      TEXT,
  kind          TEXT NOT NULL,
  payload       TEXT NOT NULL,  -- JSON object
  created_at    TEXT NOT NULL
) STRICT;
CREATE INDEX journal_workspace ON journal(workspace_id, kind, id);
CREATE INDEX journal_agent ON journal(agent_id, kind, id);
)sql"},
    {4, R"sql(
-- An agent's executions in its crew container. A run still RUNNING when
-- crewshipd starts lost its output stream: it becomes LOST.
CREATE TABLE agent_runs (
  id            TEXT PRIMARY KEY,
  agent_id      TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  workspace_id  TEXT NOT NULL,
  crew_id       TEXT NOT NULL,
  chat_id       TEXT,
  cmd           TEXT NOT NULL,  -- JSON array
  status        TEXT NOT NULL
                CHECK (status IN ('RUNNING','SUCCEEDED','FAILED','STOPPED','LOST')),
  exit_code     INTEGER,
  error         TEXT,
  started_at    TEXT NOT NULL,  -- RFC 3339, 9 fractional digits
  ended_at      TEXT
) STRICT;
CREATE INDEX agent_runs_agent ON agent_runs(agent_id, started_at);
)sql"},
    {5, R"sql(
-- Part of every crew-bound token's MAC: bumping it revokes the crew's tokens
-- (a container made again, or POST /api/v1/crews/{id}/rotate-token).
ALTER TABLE crews ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;
)sql"},
    {6, R"sql(
-- The same rule for status, written as comparisons: a CHECK with IN over more
-- than two values builds a temporary b-tree every time a row is written,
-- which was the largest cost of a presence write.
CREATE TABLE agent_status_v6 (
  agent_id      TEXT PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
  workspace_id  TEXT NOT NULL,
  crew_id       TEXT,
  status        TEXT NOT NULL
                CHECK (status = 'online' OR status = 'busy' OR status = 'blocked' OR status = 'offline'),
  since         TEXT NOT NULL,     -- RFC 3339, 9 fractional digits: sorts as text
  last_seen     INTEGER NOT NULL,  -- unix milliseconds
  details       TEXT               -- a JSON object, or NULL
) STRICT, WITHOUT ROWID;
INSERT INTO agent_status_v6 (agent_id, workspace_id, crew_id, status, since, last_seen, details)
  SELECT agent_id, workspace_id, crew_id, status, since, last_seen, details FROM agent_status;
DROP TABLE agent_status;
ALTER TABLE agent_status_v6 RENAME TO agent_status;
CREATE INDEX agent_status_workspace ON agent_status(workspace_id, status);
CREATE INDEX agent_status_crew ON agent_status(crew_id, status);
CREATE INDEX agent_status_seen ON agent_status(last_seen) WHERE status != 'offline';
)sql"},
    {7, R"sql(
-- Agent resources: the credentials vault, the skills catalog, chat messages,
-- webhook secrets, where a run came from, and the audit log.
CREATE TABLE credentials (
  id                  TEXT PRIMARY KEY,
  workspace_id        TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  name                TEXT NOT NULL,
  provider            TEXT NOT NULL
                      CHECK (provider IN ('ANTHROPIC','OPENAI','GOOGLE','GITHUB','CUSTOM')),
  type                TEXT NOT NULL
                      CHECK (type IN ('API_KEY','AI_CLI_TOKEN','OAUTH_TOKEN','SECRET')),
  sealed              BLOB NOT NULL,  -- nonce || crypto_secretbox(value)
  hint                TEXT NOT NULL,  -- the value's last 4 characters at most
  created_by_user_id  TEXT,
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL,
  deleted_at          TEXT
) STRICT;
CREATE INDEX credentials_workspace ON credentials(workspace_id, created_at);
CREATE INDEX agent_credentials_credential ON agent_credentials(credential_id);

CREATE TABLE skills (
  id                  TEXT PRIMARY KEY,
  workspace_id        TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  name                TEXT NOT NULL,
  slug                TEXT NOT NULL,
  description         TEXT,
  content             TEXT,
  created_by_user_id  TEXT,
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL,
  UNIQUE (workspace_id, slug)
) STRICT;

CREATE INDEX chats_agent_created ON chats(agent_id, created_at);
-- seq is dense per chat (1, 2, ...), so a page at offset N starts at seq N+1.
CREATE TABLE chat_messages (
  id          TEXT PRIMARY KEY,
  chat_id     TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  role        TEXT NOT NULL CHECK (role IN ('user','assistant','system','tool')),
  content     TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  UNIQUE (chat_id, seq)
) STRICT;

CREATE TABLE agent_webhooks (
  agent_id     TEXT PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
  secret_hash  TEXT NOT NULL,  -- hex HMAC-SHA256 under a key derived from the vault key
  created_at   TEXT NOT NULL,
  rotated_at   TEXT NOT NULL
) STRICT, WITHOUT ROWID;

ALTER TABLE agent_runs ADD COLUMN source TEXT NOT NULL DEFAULT 'ipc'
  CHECK (source IN ('ipc','webhook'));
CREATE INDEX agent_runs_workspace ON agent_runs(workspace_id, started_at);

CREATE TABLE audit_logs (
  id             TEXT PRIMARY KEY,
  workspace_id   TEXT NOT NULL,
  action         TEXT NOT NULL,
  actor_user_id  TEXT,
  target_type    TEXT NOT NULL,
  target_id      TEXT NOT NULL,
  details        TEXT,  -- a JSON object, never a secret value
  created_at     TEXT NOT NULL  -- RFC 3339, 9 fractional digits
) STRICT;
CREATE INDEX audit_logs_workspace ON audit_logs(workspace_id, created_at);
CREATE INDEX audit_logs_action ON audit_logs(workspace_id, action, created_at);
)sql"},
    {8, R"sql(
-- Invitations to a workspace: the token is shown once and kept as its
-- SHA-256; one is pending until accepted, revoked or past expires_at.
CREATE TABLE invitations (
  id                   TEXT PRIMARY KEY,
  workspace_id         TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  email                TEXT NOT NULL COLLATE NOCASE,
  role                 TEXT NOT NULL CHECK (role IN ('OWNER','ADMIN','MANAGER','MEMBER','VIEWER')),
  token_hash           TEXT NOT NULL UNIQUE,  -- SHA-256 hex of the token
  invited_by_user_id   TEXT,
  created_at           TEXT NOT NULL,
  expires_at           TEXT NOT NULL,  -- RFC 3339, whole seconds, UTC
  accepted_at          TEXT,
  accepted_by_user_id  TEXT,
  revoked_at           TEXT
) STRICT;
CREATE INDEX invitations_workspace ON invitations(workspace_id, created_at);
CREATE INDEX invitations_email ON invitations(workspace_id, email);
)sql"},
    {9, R"sql(
-- What waits on an agent: approvals that block it (a hire to approve) and
-- items it should see (a suggestion queued, a hire made visible).
CREATE TABLE inbox_items (
  id            TEXT PRIMARY KEY,
  workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  agent_id      TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  kind          TEXT NOT NULL,  -- hire_approval | persona_suggestion | visibility | ...
  blocking      INTEGER NOT NULL DEFAULT 0 CHECK (blocking IN (0, 1)),
  status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  payload       TEXT NOT NULL DEFAULT '{}',  -- a JSON object
  created_at    TEXT NOT NULL,
  resolved_at   TEXT,
  resolved_by   TEXT  -- a user id, or "system"
) STRICT;
CREATE INDEX inbox_items_agent ON inbox_items(agent_id, status, created_at);
CREATE INDEX inbox_items_workspace ON inbox_items(workspace_id, created_at);

-- Roles a workspace defines for its crews; the built-in ones are in code.
CREATE TABLE crew_templates (
  id                  TEXT PRIMARY KEY,
  workspace_id        TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  slug                TEXT NOT NULL,
  name                TEXT NOT NULL,
  role_title          TEXT,
  system_prompt       TEXT,
  cli_adapter         TEXT NOT NULL DEFAULT 'CLAUDE_CODE',
  llm_model           TEXT,
  created_by_user_id  TEXT,
  created_at          TEXT NOT NULL,
  UNIQUE (workspace_id, slug)
) STRICT;
)sql"},
    {10, R"sql(
-- Live hired agents: the TTL sweep reads them by deadline, the quota counts
-- them by crew; ghosts and permanent agents stay out of both.
CREATE INDEX agents_ephemeral_due ON agents(expires_at)
  WHERE ephemeral = 1 AND expired_at IS NULL AND deleted_at IS NULL;
CREATE INDEX agents_ephemeral_crew ON agents(crew_id)
  WHERE ephemeral = 1 AND expired_at IS NULL AND deleted_at IS NULL;
)sql"},
    {11, R"sql(
-- Agents' memory. The files (PERSONA.md layers, peer cards) live on disk
-- under <data>/memory, which no container mounts; these rows are their
-- history, their index and the trail of who touched them.
CREATE TABLE memory_versions (
  id          TEXT PRIMARY KEY,
  path        TEXT NOT NULL,  -- relative to the data dir
  sha256      TEXT NOT NULL,  -- hex, of the content written
  bytes       INTEGER NOT NULL,
  written_at  TEXT NOT NULL,
  written_by  TEXT NOT NULL,  -- a user id, or the agent whose suggestion applied
  parent_sha  TEXT            -- the previous version's sha256; NULL first
) STRICT;
CREATE INDEX memory_versions_path ON memory_versions(path, written_at);

CREATE TABLE peer_cards (
  id          TEXT PRIMARY KEY,
  agent_id    TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  bytes       INTEGER NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  UNIQUE (agent_id, user_id)
) STRICT;

-- Kept when the card, the agent or the user is gone: a subject access
-- request asks who read what about whom.
CREATE TABLE peer_card_audit (
  id        TEXT PRIMARY KEY,
  agent_id  TEXT NOT NULL,
  user_id   TEXT NOT NULL,
  action    TEXT NOT NULL CHECK (action = 'read' OR action = 'write' OR action = 'delete'),
  actor     TEXT NOT NULL,  -- a user id, or "runtime" for the IPC writer
  at        TEXT NOT NULL   -- RFC 3339, 9 fractional digits
) STRICT;
CREATE INDEX peer_card_audit_agent ON peer_card_audit(agent_id, at);
CREATE INDEX peer_card_audit_user ON peer_card_audit(user_id, at);

-- Self-learning: whether allowed persona suggestions apply by themselves;
-- the other three say who last flipped it, when and why (NULL: never).
ALTER TABLE agents ADD COLUMN self_learning_enabled INTEGER NOT NULL DEFAULT 0
  CHECK (self_learning_enabled = 0 OR self_learning_enabled = 1);
ALTER TABLE agents ADD COLUMN self_learning_set_by_user_id TEXT;
ALTER TABLE agents ADD COLUMN self_learning_set_at TEXT;
ALTER TABLE agents ADD COLUMN self_learning_reason TEXT;
)sql"},
    {12, R"sql(
-- The keeper's access log: one row each time a credential was opened for a
-- run (never its value); rows outlive the agent and the credential.
CREATE TABLE keeper_requests (
  id             TEXT PRIMARY KEY,
  workspace_id   TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  credential_id  TEXT NOT NULL,
  agent_id       TEXT NOT NULL,
  run_id         TEXT NOT NULL,
  env_var_name   TEXT NOT NULL,
  at             TEXT NOT NULL  -- RFC 3339, 9 fractional digits: sorts as text
) STRICT;
CREATE INDEX keeper_requests_workspace ON keeper_requests(workspace_id, at);
CREATE INDEX keeper_requests_at ON keeper_requests(at);

-- When a workspace's onboarding was marked complete, and by whom.
CREATE TABLE onboarding (
  workspace_id          TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
  completed_at          TEXT NOT NULL,
  completed_by_user_id  TEXT
) STRICT;
)sql"},
    {13, R"sql(
-- The activity feed reads each source newest first from an index on its
-- time, strictly before a cursor: by workspace, or by crew.
CREATE INDEX journal_activity ON journal(workspace_id, kind, created_at);
CREATE INDEX journal_crew_activity ON journal(crew_id, kind, created_at);
CREATE INDEX audit_logs_target ON audit_logs(target_id, created_at);
CREATE INDEX agent_runs_crew ON agent_runs(crew_id, started_at);
CREATE INDEX agent_runs_ended ON agent_runs(workspace_id, ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX agent_runs_crew_ended ON agent_runs(crew_id, ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX inbox_items_agent_created ON inbox_items(agent_id, created_at);

-- MCP tool calls the runtime reports: what was called, how long it took and
-- how it ended. The arguments are kept only as their SHA-256.
CREATE TABLE mcp_tool_calls (
  id                TEXT PRIMARY KEY,
  workspace_id      TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  crew_id           TEXT,
  agent_id          TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  run_id            TEXT,
  server            TEXT NOT NULL,
  tool              TEXT NOT NULL,
  arguments_digest  TEXT NOT NULL CHECK (length(arguments_digest) = 71),  -- sha256:<64 hex>
  duration_ms       INTEGER NOT NULL CHECK (duration_ms >= 0),
  outcome           TEXT NOT NULL CHECK (outcome = 'ok' OR outcome = 'error' OR outcome = 'timeout'
                                         OR outcome = 'denied' OR outcome = 'cancelled'),
  created_at        TEXT NOT NULL  -- RFC 3339, 9 fractional digits
) STRICT;
CREATE INDEX mcp_tool_calls_workspace ON mcp_tool_calls(workspace_id, created_at);
CREATE INDEX mcp_tool_calls_agent ON mcp_tool_calls(agent_id, created_at);
)sql"},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

int latest_version() { return kMigrations[std::size(kMigrations) - 1].version; }

int schema_version(Connection& c) {
  StmtLease s = c.prepare("PRAGMA user_version");
  if (!s || s.step() != SQLITE_ROW) return -1;
  return static_cast<int>(s.int64(0));
}

int migrate(Connection& c, std::string* error, int target) {
  if (target < 0) target = latest_version();
  int current = schema_version(c);
  if (current < 0) {
    *error = "cannot read the schema version: " + c.errmsg();
    return SQLITE_ERROR;
  }
  if (current > latest_version()) {
    *error = "database schema version " + std::to_string(current) +
             " is newer than this crewshipd knows (" + std::to_string(latest_version()) + ")";
    return SQLITE_ERROR;
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= current || m.version > target) continue;
    std::string sql = "BEGIN IMMEDIATE;\n";
    sql += m.sql;
    sql += "\nPRAGMA user_version = " + std::to_string(m.version) + ";\nCOMMIT;";
    int rc = c.exec(sql.c_str(), error);
    if (rc != SQLITE_OK) {
      c.exec("ROLLBACK");
      *error = "migration " + std::to_string(m.version) + " failed: " + *error;
      return rc;
    }
  }
  return SQLITE_OK;
}

}  // namespace crewship::store
