-- 0013 (progress): what the bureaus report for a deadline, project by
-- project, and what the coordinator has published of it (issue 23).
--
-- A project is named by its key '<measure>-<n>': the measure's number and
-- the project's 1-based place in that measure's list in the progress file
-- (32-1 is the first project of 施策32). Keys, not projects.id, because an
-- import replaces a measure's project rows.
--
-- Both tables are append-only: a correction is a new revision, publishing
-- is a new publication row. What the public sees for a deadline and a
-- project is the revision of its newest publication.

CREATE TABLE report_revisions (
    id            INTEGER PRIMARY KEY,
    deadline      INTEGER NOT NULL REFERENCES deadlines(id) ON DELETE CASCADE,
    bureau        TEXT NOT NULL,
    project_key   TEXT NOT NULL,            -- '<measure>-<n>', see above
    measure       INTEGER NOT NULL,
    project_title TEXT NOT NULL,            -- the title when reported
    status        TEXT NOT NULL CHECK (status IN ('done', 'ongoing', 'preparing', 'delayed')),
    note          TEXT NOT NULL DEFAULT '', -- plain text, at most 1,000 characters
    link          TEXT NOT NULL DEFAULT '', -- an http(s) URL or ''
    created_ms    INTEGER NOT NULL,         -- unix milliseconds
    source        TEXT NOT NULL CHECK (source IN ('link', 'admin')),
    actor         TEXT NOT NULL DEFAULT '', -- admin login; '' for a link
    ip            TEXT NOT NULL DEFAULT '', -- evidence, as in the consent log
    user_agent    TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX report_revisions_key ON report_revisions(deadline, project_key, id);

CREATE TABLE report_publications (
    id           INTEGER PRIMARY KEY,
    revision     INTEGER NOT NULL REFERENCES report_revisions(id) ON DELETE CASCADE,
    deadline     INTEGER NOT NULL REFERENCES deadlines(id) ON DELETE CASCADE,
    project_key  TEXT NOT NULL,
    published_ms INTEGER NOT NULL,          -- unix milliseconds
    actor        TEXT NOT NULL              -- the coordinator's login, or 'cli'
) STRICT;
CREATE INDEX report_publications_key ON report_publications(deadline, project_key, id);
