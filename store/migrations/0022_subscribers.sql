-- 0022 (subscribers): the subscriber page's actions and erasure (issue 17).
--
-- consent_events is rebuilt to allow two things its CHECK and trigger
-- refused:
--   * the event 'unsuppress': staff lifted a suppression, with the reason
--     in detail and the login in actor;
--   * erasure: for a deletion request the address is replaced by its keyed
--     hash ('erased:' + HMAC of the lower-case address), subscriber_id by
--     0 and the address inside detail removed; every other column (the
--     time, list, event, source, IP, user agent, Message-ID, actor) stays,
--     so the proof of consent survives its retention period without the
--     address in clear. Any other update is still refused.
CREATE TABLE consent_events_new (
    id            INTEGER PRIMARY KEY,
    at_ms         INTEGER NOT NULL,              -- unix milliseconds
    list_id       INTEGER NOT NULL,              -- 0: every list (a lifted global suppression)
    subscriber_id INTEGER NOT NULL,              -- 0 once erased
    email         TEXT NOT NULL,                 -- 'erased:…' once erased
    event         TEXT NOT NULL CHECK (event IN ('opt-in', 'opt-out', 'confirm-request', 'unsuppress')),
    source        TEXT NOT NULL,
    ip            TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT '',
    message_id    TEXT NOT NULL DEFAULT '',
    actor         TEXT NOT NULL DEFAULT '',
    detail        TEXT NOT NULL DEFAULT ''
) STRICT;
INSERT INTO consent_events_new SELECT id, at_ms, list_id, subscriber_id, email, event, source, ip, user_agent,
    message_id, actor, detail FROM consent_events;
DROP TABLE consent_events;
ALTER TABLE consent_events_new RENAME TO consent_events;

CREATE INDEX consent_events_by_subscriber ON consent_events(subscriber_id, at_ms);
CREATE INDEX consent_events_by_list ON consent_events(list_id, at_ms);
CREATE INDEX consent_events_by_time ON consent_events(at_ms);
CREATE INDEX consent_events_by_list_event ON consent_events (list_id, event, at_ms);
-- Erasure finds every event of an address, also those of an earlier
-- subscriber row of it (ExpireUnconfirmed deletes rows left with no
-- subscription); the proof of an erased address is found by its hash.
CREATE INDEX consent_events_by_email ON consent_events (email COLLATE NOCASE);

CREATE TRIGGER consent_events_append_only BEFORE UPDATE ON consent_events
    WHEN NOT (OLD.email NOT LIKE 'erased:%' AND NEW.email LIKE 'erased:%' AND NEW.subscriber_id = 0
        AND NEW.id = OLD.id AND NEW.at_ms = OLD.at_ms AND NEW.list_id = OLD.list_id AND NEW.event = OLD.event
        AND NEW.source = OLD.source AND NEW.ip = OLD.ip AND NEW.user_agent = OLD.user_agent
        AND NEW.message_id = OLD.message_id AND NEW.actor = OLD.actor)
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;

CREATE TRIGGER consent_hours_insert AFTER INSERT ON consent_events
    WHEN NEW.event IN ('opt-in', 'opt-out')
BEGIN
    INSERT INTO consent_hours (list_id, hour, event, n) VALUES (NEW.list_id, NEW.at_ms / 3600000, NEW.event, 1)
    ON CONFLICT (list_id, hour, event) DO UPDATE SET n = n + 1;
END;

-- subscriber_erasures: one row per erased subscriber: who erased it, when
-- and why, and the keyed hash of its address. The hash lets a later
-- subscribe or import of the same address be recognised (a fresh opt-in
-- by confirmation is needed; an import is refused) and keeps the erased
-- address's suppressions and consent proof findable, without keeping the
-- address. lists names the lists it was on (slugs, comma-separated).
CREATE TABLE subscriber_erasures (
    id            INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL,
    address_hash  TEXT    NOT NULL,              -- 'erased:' + HMAC, as in consent_events.email
    at_ms         INTEGER NOT NULL,              -- unix milliseconds
    actor         TEXT    NOT NULL,
    reason        TEXT    NOT NULL DEFAULT '',
    lists         TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX subscriber_erasures_by_hash ON subscriber_erasures (address_hash);
-- New subscribers get ids above every erased one (subscribers' nextIDSQL):
-- a link mailed to an erased reader must never reach someone else.
CREATE INDEX subscriber_erasures_by_subscriber ON subscriber_erasures (subscriber_id);
