-- 0004 (mailer): the per-recipient outbox owned by package mailer.
-- issue_id and subscriber_id name rows of packages issues and subscribers;
-- they are plain INTEGER columns without FOREIGN KEY (integrity is kept in Go).
-- All times are INTEGER unix milliseconds (UTC): ordering and backoff need
-- sub-second resolution.

-- mailer_runs: one row per issue handed to the mailer (by Snapshot).
-- state running|paused|cancelled|done decides whether workers claim its rows.
CREATE TABLE mailer_runs (
    issue_id    INTEGER PRIMARY KEY,
    list_id     INTEGER NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'running'
                CHECK (state IN ('running', 'paused', 'cancelled', 'done')),
    total       INTEGER NOT NULL DEFAULT 0,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
) STRICT;

-- deliveries: one row per (issue, subscriber); the address and name are
-- snapshotted so that a later change of the subscriber does not move mail.
CREATE TABLE deliveries (
    id             INTEGER PRIMARY KEY,
    issue_id       INTEGER NOT NULL REFERENCES mailer_runs (issue_id),
    subscriber_id  INTEGER NOT NULL,
    email          TEXT    NOT NULL,
    name           TEXT    NOT NULL DEFAULT '',
    domain         TEXT    NOT NULL,
    status         TEXT    NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'sending', 'sent', 'failed',
                                     'bounced', 'skipped', 'cancelled')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  INTEGER NOT NULL DEFAULT 0,
    first_attempt_ms INTEGER,
    done_ms        INTEGER,
    last_code      INTEGER,
    last_enhanced  TEXT,
    last_error     TEXT,
    message_id     TEXT,
    queue_id       TEXT,
    relay          TEXT,
    UNIQUE (issue_id, subscriber_id)
) STRICT;

-- Workers claim queued rows whose time has come, earliest first; the
-- partial index holds only the rows still to send.
CREATE INDEX deliveries_claim ON deliveries (next_attempt_ms, id)
    WHERE status = 'queued';
CREATE INDEX deliveries_issue_status ON deliveries (issue_id, status);
