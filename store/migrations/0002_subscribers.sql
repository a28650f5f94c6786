-- 0002 (subscribers): tables owned by package subscribers.
-- Placeholder until that package lands; it fills this file in.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
