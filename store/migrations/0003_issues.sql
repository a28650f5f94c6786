-- 0003 (issues): tables owned by package issues.
-- All times are INTEGER unix milliseconds (UTC): events within one second
-- must keep their order. list_id refers to subscribers' lists without a
-- FOREIGN KEY (integrity is kept in Go, see docs/DEVELOPING.md).
CREATE TABLE issues (
    id               INTEGER PRIMARY KEY,
    list_id          INTEGER NOT NULL,
    subject          TEXT    NOT NULL,
    body_markdown    TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN
                     ('draft','scheduled','sending','sent','paused','cancelled','failed')),
    paused_from      TEXT    NOT NULL DEFAULT '',  -- status Resume returns to
    send_at          INTEGER,                      -- unix ms; NULL = not scheduled
    author           TEXT    NOT NULL,
    require_approval INTEGER NOT NULL DEFAULT 0 CHECK (require_approval IN (0,1)),
    approved_by      TEXT    NOT NULL DEFAULT '',
    approved_at      INTEGER,                      -- unix ms
    recipients       INTEGER,                      -- set once the recipients are snapshotted
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    sent_at          INTEGER                       -- unix ms when marked sent
) STRICT;

CREATE INDEX issues_by_list ON issues (list_id, id);
CREATE INDEX issues_by_status ON issues (status, send_at);
CREATE INDEX issues_archive ON issues (list_id, sent_at) WHERE status = 'sent';

-- issue_events is append-only: who changed what, when and from where.
CREATE TABLE issue_events (
    id          INTEGER PRIMARY KEY,
    issue_id    INTEGER NOT NULL REFERENCES issues (id),
    at          INTEGER NOT NULL,                  -- unix ms
    actor       TEXT    NOT NULL,
    source      TEXT    NOT NULL DEFAULT '',       -- e.g. "web 192.0.2.7", "api", "scheduler"
    action      TEXT    NOT NULL,
    from_status TEXT    NOT NULL DEFAULT '',
    to_status   TEXT    NOT NULL DEFAULT '',
    comment     TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX issue_events_by_issue ON issue_events (issue_id, id);
