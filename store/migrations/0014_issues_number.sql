-- 0014 (issues): 第N号 is a per-list sequence, given to an issue when it is
-- first sent (MarkSending); drafts have none (NULL). Issue 14.
ALTER TABLE issues ADD COLUMN number INTEGER;
CREATE UNIQUE INDEX issues_list_number ON issues (list_id, number) WHERE number IS NOT NULL;
