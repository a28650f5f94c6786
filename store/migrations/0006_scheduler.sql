-- 0006 (scheduler): tables owned by package scheduler.

-- schedules: one row per recurring or one-off schedule, unique by
-- (kind, name) so that cmd can declare its system schedules at every start.
CREATE TABLE schedules (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,                -- job kind registered by cmd
    name         TEXT    NOT NULL,
    spec         TEXT    NOT NULL DEFAULT '',     -- cron spec or descriptor; '' for a one-off
    once_at      INTEGER,                         -- one-off instant, unix seconds UTC; NULL when recurring
    tz           TEXT    NOT NULL DEFAULT '',     -- IANA zone; '' = the scheduler's default
    target       TEXT    NOT NULL DEFAULT '',     -- opaque to the scheduler (e.g. an issue id)
    policy       TEXT    NOT NULL CHECK (policy IN ('run-once', 'skip')),
    max_lateness INTEGER NOT NULL DEFAULT 0 CHECK (max_lateness >= 0), -- seconds; 0 = no limit
    paused       INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    created      INTEGER NOT NULL,                -- unix seconds UTC
    since        INTEGER NOT NULL,                -- unix seconds UTC: timing last set or resumed
    cursor       INTEGER NOT NULL,                -- unix seconds UTC: every instant up to here is decided
    UNIQUE (kind, name),
    CHECK ((spec = '') = (once_at IS NOT NULL))
) STRICT;

-- fires: a fire is recorded here before its job runs; the unique key makes
-- it happen once, whatever restarts.
CREATE TABLE fires (
    id          INTEGER PRIMARY KEY,
    schedule_id INTEGER NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    fire_at     INTEGER NOT NULL,                 -- scheduled instant, unix seconds UTC
    started     INTEGER NOT NULL,                 -- unix milliseconds UTC
    finished    INTEGER,                          -- unix milliseconds UTC; NULL while running or after a crash
    result      TEXT    NOT NULL DEFAULT 'running'
                CHECK (result IN ('running', 'ok', 'failed', 'skipped')),
    error       TEXT    NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 1,
    UNIQUE (schedule_id, fire_at)
) STRICT;

CREATE INDEX fires_unfinished ON fires (schedule_id) WHERE finished IS NULL;
