-- 0006 (scheduler): tables owned by package scheduler.
-- Placeholder until that package lands; it fills this file in.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
