-- 0007 (progress): tables owned by package progress (plan measures and
-- projects, bureaus' contacts, reporting deadlines, submissions, reminder
-- rules and the log of reminders sent).
--
-- Instants are INTEGER unix seconds (UTC). Due dates and reminder
-- occurrences are calendar dates in the configured timezone, stored as TEXT
-- 'YYYY-MM-DD': a deadline is a date, not an instant.

-- One row per bureau (局). email is where its reminders go; a bureau known
-- only from a plan's bureau list has an empty email and gets no reminders.
CREATE TABLE contacts (
    bureau     TEXT PRIMARY KEY,          -- stable slug, e.g. sogo-kikaku
    name_ja    TEXT NOT NULL,
    name_en    TEXT NOT NULL DEFAULT '',
    person     TEXT NOT NULL DEFAULT '',  -- addressee name, optional
    email      TEXT NOT NULL DEFAULT '',
    cc         TEXT NOT NULL DEFAULT '',  -- comma-separated, optional
    updated_at INTEGER NOT NULL           -- unix seconds
) STRICT;

CREATE TABLE measures (
    number   INTEGER PRIMARY KEY,         -- 施策番号
    title_ja TEXT NOT NULL,
    title_en TEXT NOT NULL DEFAULT ''
) STRICT;

-- Projects are replaced as a whole for each measure an import names.
CREATE TABLE projects (
    id       INTEGER PRIMARY KEY,
    measure  INTEGER NOT NULL REFERENCES measures(number) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    title_ja TEXT NOT NULL,
    bureau   TEXT NOT NULL,
    is_new   INTEGER,                     -- 新規: 1, 0 or NULL when unknown
    enhanced INTEGER,                     -- 充実: 1, 0 or NULL when unknown
    UNIQUE (measure, position)
) STRICT;
CREATE INDEX projects_bureau ON projects(bureau);

CREATE TABLE deadlines (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,      -- the file's stable id, e.g. fy2026-status
    title_ja   TEXT NOT NULL,
    due        TEXT NOT NULL,             -- 'YYYY-MM-DD' in the configured timezone
    created_at INTEGER NOT NULL,          -- unix seconds
    updated_at INTEGER NOT NULL           -- unix seconds
) STRICT;

-- The bureaus that must submit for a deadline; replaced on re-import.
CREATE TABLE deadline_bureaus (
    deadline INTEGER NOT NULL REFERENCES deadlines(id) ON DELETE CASCADE,
    bureau   TEXT NOT NULL REFERENCES contacts(bureau),
    PRIMARY KEY (deadline, bureau)
) STRICT;

-- A bureau's report for a deadline, recorded once (the first record wins).
CREATE TABLE submissions (
    deadline     INTEGER NOT NULL REFERENCES deadlines(id) ON DELETE CASCADE,
    bureau       TEXT NOT NULL REFERENCES contacts(bureau),
    submitted_at INTEGER NOT NULL,        -- unix seconds
    how          TEXT NOT NULL CHECK (how IN ('link', 'admin')),
    actor        TEXT NOT NULL DEFAULT '', -- admin login, or evidence (IP, user agent) for a link
    PRIMARY KEY (deadline, bureau)
) STRICT;

-- The reminder rules of the last import that had a reminders section.
CREATE TABLE reminder_rules (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    before_days         TEXT NOT NULL,    -- comma-separated day offsets, e.g. '30,14,7,1,0'
    overdue_every_days  INTEGER NOT NULL,
    escalate_after_days INTEGER NOT NULL,
    coordinator         TEXT NOT NULL DEFAULT '',
    updated_at          INTEGER NOT NULL  -- unix seconds
) STRICT;

-- The reminder log. Its unique key makes each reminder occurrence happen
-- once: a row is inserted 'pending' in the transaction that decides to send,
-- the mail is sent after commit, then the row becomes 'sent' (or stays
-- 'pending' with the error, and is retried next run, until 'failed').
-- kind is 'remind' (to the bureau) or 'escalate' (to the coordinator);
-- occurrence is the date the rule fell due, label says which rule it was.
CREATE TABLE reminders_sent (
    id          INTEGER PRIMARY KEY,
    deadline    INTEGER NOT NULL REFERENCES deadlines(id) ON DELETE CASCADE,
    bureau      TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('remind', 'escalate')),
    occurrence  TEXT NOT NULL,            -- 'YYYY-MM-DD'
    label       TEXT NOT NULL,            -- e.g. before-7, due, overdue-6, escalate-7
    status      TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'superseded', 'cancelled')),
    recipient   TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,         -- unix seconds (run time)
    sent_at     INTEGER,                  -- unix seconds
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    lease_until INTEGER NOT NULL DEFAULT 0, -- unix seconds; a run sending it holds it until then
    UNIQUE (deadline, bureau, kind, occurrence)
) STRICT;
CREATE INDEX reminders_sent_status ON reminders_sent(status);

-- One row per import of a progress file.
CREATE TABLE progress_imports (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,            -- file name as given
    sha256      TEXT NOT NULL,
    imported_at INTEGER NOT NULL,         -- unix seconds
    contacts    INTEGER NOT NULL,
    measures    INTEGER NOT NULL,
    projects    INTEGER NOT NULL,
    deadlines   INTEGER NOT NULL
) STRICT;
