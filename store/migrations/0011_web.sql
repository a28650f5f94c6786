-- 0011 (web): a user whose password was made for them (local mode's first
-- admin, an admin's reset) must choose their own before anything else.
ALTER TABLE users ADD COLUMN must_change INTEGER NOT NULL DEFAULT 0;
