-- 0025 (issues, mailer): joint issues, one issue to several lists (issue 17).
--
-- issues: issue_lists holds every list of an issue, in the order the author
-- chose; position 0 is the lead list, which stays in issues.list_id (and its
-- 第N号 in issues.number) for the code and tools that read one list. Each
-- list numbers an issue in its own sequence: number is the issue's 第N号 on
-- that list, given when the issue is first sent (NULL before). Every issue
-- has at least its lead row here; the rows are written with the issue.
CREATE TABLE issue_lists (
    issue_id INTEGER NOT NULL REFERENCES issues (id),
    list_id  INTEGER NOT NULL,           -- subscribers' lists, no FOREIGN KEY (docs/DEVELOPING.md)
    position INTEGER NOT NULL,           -- 0 = the lead list
    number   INTEGER,                    -- 第N号 on this list; NULL until first sent
    PRIMARY KEY (issue_id, list_id),
    UNIQUE (issue_id, position)
) STRICT, WITHOUT ROWID;

CREATE INDEX issue_lists_by_list ON issue_lists (list_id, issue_id);
CREATE UNIQUE INDEX issue_lists_number ON issue_lists (list_id, number) WHERE number IS NOT NULL;

INSERT INTO issue_lists (issue_id, list_id, position, number)
SELECT id, list_id, 0, number FROM issues;

-- mailer: a delivery records the list it is sent for (the recipient's first
-- list of the issue they are on): its unsubscribe link, List-Id, opt-out
-- re-check and per-list statistics follow it. The one-time backfill gives
-- every earlier delivery its run's (the issue's only) list.
ALTER TABLE deliveries ADD COLUMN list_id INTEGER; -- subscribers' lists; NULL only in a database older than 0025
UPDATE deliveries SET list_id = (SELECT r.list_id FROM mailer_runs r WHERE r.issue_id = deliveries.issue_id);
