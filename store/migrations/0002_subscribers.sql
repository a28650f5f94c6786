-- 0002 (subscribers): tables owned by package subscribers.
-- Times are INTEGER unix seconds (UTC) unless the column says _ms.

-- lists: one row per mail magazine or internal newsletter. Synced by slug
-- from the configuration at start; never deleted (subscriptions and the
-- consent log refer to it).
CREATE TABLE lists (
    id               INTEGER PRIMARY KEY,
    slug             TEXT NOT NULL UNIQUE,
    name_ja          TEXT NOT NULL DEFAULT '',
    name_en          TEXT NOT NULL DEFAULT '',
    kind             TEXT NOT NULL DEFAULT 'public' CHECK (kind IN ('public', 'internal')),
    from_address     TEXT NOT NULL DEFAULT '',
    from_name        TEXT NOT NULL DEFAULT '',
    postal_address   TEXT NOT NULL DEFAULT '',
    contact          TEXT NOT NULL DEFAULT '',
    double_opt_in    INTEGER NOT NULL DEFAULT 1,
    allowed_domains  TEXT NOT NULL DEFAULT '',   -- comma-separated, lower-case ASCII
    encoding         TEXT NOT NULL DEFAULT 'utf-8' CHECK (encoding IN ('utf-8', 'iso-2022-jp')),
    name_fallback    TEXT NOT NULL DEFAULT '',
    require_approval INTEGER NOT NULL DEFAULT 0,
    description_ja   TEXT NOT NULL DEFAULT '',
    description_en   TEXT NOT NULL DEFAULT '',
    created          INTEGER NOT NULL,
    updated          INTEGER NOT NULL
) STRICT;

-- subscribers: one row per normalised address (local part as given, domain
-- lower-case ASCII); email is also the lookup key.
CREATE TABLE subscribers (
    id         INTEGER PRIMARY KEY,
    email      TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL DEFAULT '',
    lang       TEXT NOT NULL DEFAULT 'ja',
    attributes TEXT NOT NULL DEFAULT '{}',      -- JSON object of strings
    created    INTEGER NOT NULL
) STRICT;

-- subscriptions: a subscriber's state on one list.
CREATE TABLE subscriptions (
    list_id         INTEGER NOT NULL REFERENCES lists(id),
    subscriber_id   INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    status          TEXT NOT NULL CHECK (status IN ('unconfirmed', 'confirmed', 'unsubscribed')),
    source          TEXT NOT NULL,               -- how the last opt-in request came
    requested_at    INTEGER NOT NULL,            -- last (re-)subscribe request
    confirmed_at    INTEGER,
    unsubscribed_at INTEGER,
    PRIMARY KEY (list_id, subscriber_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX subscriptions_by_subscriber ON subscriptions(subscriber_id);
CREATE INDEX subscriptions_by_status ON subscriptions(list_id, status, subscriber_id);

-- suppressions: addresses never mailed. list_id 0 = every list.
CREATE TABLE suppressions (
    email   TEXT NOT NULL,
    list_id INTEGER NOT NULL DEFAULT 0,
    reason  TEXT NOT NULL CHECK (reason IN ('hard-bounce', 'complaint', 'manual')),
    detail  TEXT NOT NULL DEFAULT '',
    since   INTEGER NOT NULL,
    PRIMARY KEY (email, list_id)
) STRICT, WITHOUT ROWID;

-- consent_events: the append-only record of opt-ins and opt-outs that the
-- 特定電子メール法 asks a sender to keep. Rows are only ever inserted, and
-- deleted by retention pruning; email is copied so the record outlives the
-- subscriber row. list_id and subscriber_id are plain integers on purpose.
CREATE TABLE consent_events (
    id            INTEGER PRIMARY KEY,
    at_ms         INTEGER NOT NULL,              -- unix milliseconds
    list_id       INTEGER NOT NULL,
    subscriber_id INTEGER NOT NULL,
    email         TEXT NOT NULL,
    event         TEXT NOT NULL CHECK (event IN ('opt-in', 'opt-out', 'confirm-request')),
    source        TEXT NOT NULL,
    ip            TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT '',
    message_id    TEXT NOT NULL DEFAULT '',
    actor         TEXT NOT NULL DEFAULT '',
    detail        TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX consent_events_by_subscriber ON consent_events(subscriber_id, at_ms);
CREATE INDEX consent_events_by_list ON consent_events(list_id, at_ms);
CREATE INDEX consent_events_by_time ON consent_events(at_ms);
CREATE TRIGGER consent_events_append_only BEFORE UPDATE ON consent_events
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;

-- confirmation_sends: one row per confirmation mail, for the per-address
-- daily limit. Rows older than a day are deleted by housekeeping.
CREATE TABLE confirmation_sends (
    email TEXT NOT NULL,
    at    INTEGER NOT NULL
) STRICT;
CREATE INDEX confirmation_sends_by_email ON confirmation_sends(email, at);
