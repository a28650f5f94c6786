-- 0019 (subscribers): what the admin pages need to stay fast at a million
-- subscribers (issue 19).
--
-- subscription_counts holds the number of subscriptions per list and
-- status. Triggers keep it in the same transaction as every change to
-- subscriptions, whoever makes it (subscribe, confirm, import, erase,
-- expiry), so the dashboard reads nine rows instead of counting a list.
CREATE TABLE subscription_counts (
    list_id INTEGER NOT NULL,
    status  TEXT    NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (list_id, status)
) STRICT, WITHOUT ROWID;

INSERT INTO subscription_counts (list_id, status, n)
SELECT list_id, status, count(*) FROM subscriptions GROUP BY list_id, status;

CREATE TRIGGER subscription_counts_insert AFTER INSERT ON subscriptions
BEGIN
    INSERT INTO subscription_counts (list_id, status, n) VALUES (NEW.list_id, NEW.status, 1)
    ON CONFLICT (list_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER subscription_counts_delete AFTER DELETE ON subscriptions
BEGIN
    UPDATE subscription_counts SET n = n - 1 WHERE list_id = OLD.list_id AND status = OLD.status;
END;

CREATE TRIGGER subscription_counts_update AFTER UPDATE OF list_id, status ON subscriptions
    WHEN OLD.list_id <> NEW.list_id OR OLD.status <> NEW.status
BEGIN
    UPDATE subscription_counts SET n = n - 1 WHERE list_id = OLD.list_id AND status = OLD.status;
    INSERT INTO subscription_counts (list_id, status, n) VALUES (NEW.list_id, NEW.status, 1)
    ON CONFLICT (list_id, status) DO UPDATE SET n = n + 1;
END;

-- consent_hours counts opt-ins and opt-outs per list and UTC hour (hour =
-- at_ms / 3600000), kept by a trigger on the append-only consent log; the
-- growth chart sums 90 days × 24 rows instead of reading every event.
-- Pruning old consent events leaves the counts (they hold no personal
-- data).
CREATE TABLE consent_hours (
    list_id INTEGER NOT NULL,
    hour    INTEGER NOT NULL,
    event   TEXT    NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (list_id, hour, event)
) STRICT, WITHOUT ROWID;

INSERT INTO consent_hours (list_id, hour, event, n)
SELECT list_id, at_ms / 3600000, event, count(*) FROM consent_events
WHERE event IN ('opt-in', 'opt-out') GROUP BY 1, 2, 3;

CREATE TRIGGER consent_hours_insert AFTER INSERT ON consent_events
    WHEN NEW.event IN ('opt-in', 'opt-out')
BEGIN
    INSERT INTO consent_hours (list_id, hour, event, n) VALUES (NEW.list_id, NEW.at_ms / 3600000, NEW.event, 1)
    ON CONFLICT (list_id, hour, event) DO UPDATE SET n = n + 1;
END;

-- The admin search matches the start of an address or a name, case-blind
-- (ASCII), through these indexes; suppressed subscriptions are found from
-- the (few) suppressions through the address index.
CREATE INDEX subscribers_email_nocase ON subscribers (email COLLATE NOCASE);
CREATE INDEX subscribers_name_nocase ON subscribers (name COLLATE NOCASE);

-- The issue pages count a list's opt-outs in the week after each issue:
-- with the event in the index that is a range of index entries, not a
-- read of every consent event of the week.
CREATE INDEX consent_events_by_list_event ON consent_events (list_id, event, at_ms);
