-- 0024 (subscribers): lists edited in the admin UI and the API (issue 17).
--
-- archive: 1 = the list's sent issues are on the public archive and feed.
-- closed_at: when an admin closed the list to new subscribers (unix
--   seconds, UTC); NULL = open. A closed list keeps its subscribers, its
--   archive and its consent log.
-- ui_fields: the fields an admin has edited (comma-separated config key
--   names, e.g. "from_name,postal_address"). From then on those fields
--   belong to the UI: starting with a changed config applies every other
--   field and leaves these as edited. A list created in the UI has every
--   field here.
ALTER TABLE lists ADD COLUMN archive INTEGER NOT NULL DEFAULT 1;
ALTER TABLE lists ADD COLUMN closed_at INTEGER;
ALTER TABLE lists ADD COLUMN ui_fields TEXT NOT NULL DEFAULT '';
