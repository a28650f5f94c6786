-- 0005 (bounces): tables owned by package bounces.
-- Times are INTEGER unix seconds (UTC). Ids of other packages' rows
-- (delivery, issue, subscriber) are plain integers without foreign keys.

-- One row per bounce message read from IMAP, or per 5xx refusal the mailer
-- reported at send time (then mailbox is '' and uid 0).
CREATE TABLE bounces (
    id            INTEGER PRIMARY KEY,
    received      INTEGER NOT NULL,                -- unix seconds
    mailbox       TEXT    NOT NULL DEFAULT '',     -- source mailbox, '' for send-time failures
    uidvalidity   INTEGER NOT NULL DEFAULT 0,
    uid           INTEGER NOT NULL DEFAULT 0,
    message_id    TEXT    NOT NULL DEFAULT '',     -- the bounce's own Message-ID
    dedupe_key    TEXT    NOT NULL UNIQUE,         -- 'mid:'+Message-ID, 'sha256:'+hash of raw, or 'send:'+delivery
    delivery_id   INTEGER,                         -- mailer delivery, when attributed
    issue_id      INTEGER,
    subscriber_id INTEGER,
    email         TEXT    NOT NULL DEFAULT '',     -- the address the bounce is about
    attributed_by TEXT    NOT NULL DEFAULT '',     -- verp|message-id|delivery-header|recipient|send|none
    class         TEXT    NOT NULL CHECK (class IN ('hard','soft','autoreply','complaint','delivered','other')),
    status        TEXT    NOT NULL DEFAULT '',     -- RFC 3463 enhanced status code
    action        TEXT    NOT NULL DEFAULT '',     -- RFC 3464 Action
    diagnostic    TEXT    NOT NULL DEFAULT '',
    remote_mta    TEXT    NOT NULL DEFAULT '',
    format        TEXT    NOT NULL DEFAULT '',     -- what the classifier recognised
    feedback_type TEXT    NOT NULL DEFAULT '',     -- RFC 5965, complaints only
    rule          TEXT    NOT NULL DEFAULT '',     -- the rule that acted, in words
    outcome       TEXT    NOT NULL DEFAULT 'none', -- none|suppressed|unsubscribed|alert|scored
    applied       INTEGER NOT NULL DEFAULT 0,      -- 1 once the outcome's side effects succeeded
    raw           BLOB,                            -- copy of the message (capped)
    raw_truncated INTEGER NOT NULL DEFAULT 0,
    not_a_bounce  INTEGER NOT NULL DEFAULT 0,      -- staff said this is not a bounce
    not_a_bounce_by TEXT  NOT NULL DEFAULT '',
    not_a_bounce_at INTEGER
) STRICT;
CREATE UNIQUE INDEX bounces_source ON bounces (mailbox, uidvalidity, uid) WHERE mailbox <> '';
CREATE INDEX bounces_email ON bounces (email);
CREATE INDEX bounces_issue ON bounces (issue_id, class);
CREATE INDEX bounces_subscriber ON bounces (subscriber_id);
CREATE INDEX bounces_class ON bounces (class, received);

-- Where the reader stopped in each mailbox.
CREATE TABLE imap_state (
    mailbox     TEXT    PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    last_uid    INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL                -- unix seconds
) STRICT;

-- Per-address counters behind the policy: hard bounces since the last
-- successful delivery and the decaying soft-bounce score.
CREATE TABLE bounce_scores (
    email        TEXT    PRIMARY KEY,
    hard_count   INTEGER NOT NULL DEFAULT 0,
    soft_score   REAL    NOT NULL DEFAULT 0,
    soft_updated INTEGER NOT NULL DEFAULT 0,    -- unix seconds of the last soft bounce
    delivered_at INTEGER NOT NULL DEFAULT 0     -- unix seconds of the last reset by a delivery
) STRICT;

-- Alerts for the operator: the receiver refused us (RFC 3463 X.7.X).
CREATE TABLE bounce_alerts (
    id         INTEGER PRIMARY KEY,
    created    INTEGER NOT NULL,                -- unix seconds
    bounce_id  INTEGER REFERENCES bounces (id),
    kind       TEXT    NOT NULL,                -- policy-refusal
    domain     TEXT    NOT NULL DEFAULT '',     -- the receiving domain
    status     TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT '',
    acknowledged INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX bounce_alerts_created ON bounce_alerts (created);

-- Inbound commands (join by empty mail, unsubscribe by mail), acted on once
-- per inbound message.
CREATE TABLE inbound_commands (
    id          INTEGER PRIMARY KEY,
    received    INTEGER NOT NULL,               -- unix seconds
    dedupe_key  TEXT    NOT NULL UNIQUE,        -- 'mid:'+Message-ID or 'sha256:'+hash of raw
    message_id  TEXT    NOT NULL DEFAULT '',
    kind        TEXT    NOT NULL CHECK (kind IN ('join','unsubscribe')),
    list_slug   TEXT    NOT NULL DEFAULT '',
    mailbox     TEXT    NOT NULL DEFAULT '',
    uidvalidity INTEGER NOT NULL DEFAULT 0,
    uid         INTEGER NOT NULL DEFAULT 0,
    result      TEXT    NOT NULL DEFAULT '',    -- ok, or why nothing was done
    applied     INTEGER NOT NULL DEFAULT 0
) STRICT;
