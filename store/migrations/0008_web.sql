-- 0008 (web): users, sessions, API tokens, audit log and login throttling.
-- Times are INTEGER unix seconds (UTC) unless the column says _ms.

-- users: people who log in to the admin UI or hold API tokens.
-- password_hash is an argon2id PHC string; approver lets a user approve
-- issues on the lists it may edit.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'coordinator', 'viewer')),
    approver      INTEGER NOT NULL DEFAULT 0,
    email         TEXT NOT NULL DEFAULT '',
    disabled      INTEGER NOT NULL DEFAULT 0,
    created       INTEGER NOT NULL
) STRICT;

-- user_lists: the list slugs an editor (or coordinator) may edit.
CREATE TABLE user_lists (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    slug    TEXT NOT NULL,
    PRIMARY KEY (user_id, slug)
) STRICT;

-- sessions: id_hash is SHA-256 of the random cookie value, never the value.
CREATE TABLE sessions (
    id_hash    BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    created    INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX sessions_user ON sessions(user_id);

-- api_tokens: token_hash is SHA-256 of the bearer token.
CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    created    INTEGER NOT NULL,
    last_used  INTEGER NOT NULL DEFAULT 0
) STRICT;

-- audit_log: append-only record of every change (who, what, when, where).
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at_ms  INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    ip     TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_log_at ON audit_log(at_ms);

-- login_attempts: recent failed logins, for throttling per account and IP.
CREATE TABLE login_attempts (
    id    INTEGER PRIMARY KEY,
    login TEXT NOT NULL,
    ip    TEXT NOT NULL,
    at    INTEGER NOT NULL
) STRICT;
CREATE INDEX login_attempts_login ON login_attempts(login, at);
CREATE INDEX login_attempts_ip ON login_attempts(ip, at);
