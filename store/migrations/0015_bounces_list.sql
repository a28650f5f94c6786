-- 0015 (bounces): a bounce records its delivery's list when it is recorded,
-- so that a list's bounces are filtered and paged in SQL. Issue 14.
ALTER TABLE bounces ADD COLUMN list_id INTEGER; -- the delivery's issue's list (subscribers' lists), NULL if unattributed
CREATE INDEX bounces_list ON bounces (list_id, received);
-- One-time backfill of the rows recorded before this migration (the only
-- place bounces' DDL looks at issues; from now on bounces gets the list from
-- the DeliveryLookup that attributes the bounce).
UPDATE bounces SET list_id = (SELECT list_id FROM issues WHERE issues.id = bounces.issue_id) WHERE issue_id IS NOT NULL;
