-- 0008 (web): tables owned by package web.
-- Placeholder until that package lands; it fills this file in.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
