-- 0010 (mailer): system mail (confirmations) kept until a relay takes it,
-- so that a crash or a relay outage delays such a mail instead of losing
-- it. A row is deleted when the relay accepts the message, refuses it
-- permanently, or it is older than the retry age. Times are unix ms (UTC).
CREATE TABLE mail_queue (
    id               INTEGER PRIMARY KEY,
    kind             TEXT    NOT NULL,  -- what it is, for logs: confirmation, ...
    mail_from        TEXT    NOT NULL,  -- envelope sender
    rcpt             TEXT    NOT NULL,  -- recipient address (Message.To)
    message_id       TEXT    NOT NULL,
    data             BLOB    NOT NULL,  -- the built message, DKIM-signed when configured
    created_ms       INTEGER NOT NULL,
    next_attempt_ms  INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT
) STRICT;

CREATE INDEX mail_queue_due ON mail_queue (next_attempt_ms);
