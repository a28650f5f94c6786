-- 0027 (subscribers): the durable subscription intake (subscribers.Intake).
--
-- POST /subscribe answers at the same cost for every address: it checks
-- what is the same for all (syntax, lists, source), writes the request
-- here with one INSERT, and answers; Intake.Run does the per-address work
-- (Subscribe) a moment later and deletes the row in the same transaction.
-- A request answered just before a crash is therefore still here at the
-- next start, and Run does it then.
--
-- Deliberately no UNIQUE constraint and no index on email: the INSERT
-- must be the same whoever the address belongs to and must not fail, or
-- take longer, because the address was seen before. The table stays
-- small (rows live about IntakeDelay); erasure scans it.
--
-- Rows hold personal data (address, name, IP, user agent) only until
-- they are done; an erasure deletes the address's pending rows too.
CREATE TABLE subscribe_intake (
    id         INTEGER PRIMARY KEY,
    at_ms      INTEGER NOT NULL,            -- when the request was answered (unix ms)
    email      TEXT    NOT NULL,            -- as ParseAddress normalised it
    name       TEXT    NOT NULL DEFAULT '',
    lists      TEXT    NOT NULL,            -- JSON array of list slugs, as asked
    source     TEXT    NOT NULL,
    lang       TEXT    NOT NULL DEFAULT '',
    ip         TEXT    NOT NULL DEFAULT '',
    user_agent TEXT    NOT NULL DEFAULT '',
    message_id TEXT    NOT NULL DEFAULT '',
    actor      TEXT    NOT NULL DEFAULT ''
) STRICT;
