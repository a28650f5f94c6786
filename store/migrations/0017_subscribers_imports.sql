-- 0017 (subscribers): a record of each CSV import, written as the import
-- goes, so that its progress can be shown and an import that stopped
-- half-way (crash, full disk) resumes where it stopped when the same file
-- is imported into the same list again. Rows are checked before any is
-- written; they are then written in short batches, each batch in one
-- transaction together with the record's progress. Times are unix ms.
CREATE TABLE subscriber_imports (
    id             INTEGER PRIMARY KEY,
    list_id        INTEGER NOT NULL,
    file_name      TEXT    NOT NULL DEFAULT '',
    file_sha256    TEXT    NOT NULL,
    file_bytes     INTEGER NOT NULL,
    consent_source TEXT    NOT NULL DEFAULT '',
    actor          TEXT    NOT NULL DEFAULT '',
    -- writing: batches going in; done; failed: stopped by an error (see
    -- error), resumable. (A file refused by the checks leaves no record:
    -- the record is made once every row has been checked.)
    status         TEXT    NOT NULL CHECK (status IN ('writing', 'done', 'failed')),
    rows_total     INTEGER NOT NULL DEFAULT 0,  -- data rows in the file
    rows_valid     INTEGER NOT NULL DEFAULT 0,  -- rows that passed the checks: the rows to write
    rows_written   INTEGER NOT NULL DEFAULT 0,  -- of those, written so far
    line_done      INTEGER NOT NULL DEFAULT 0,  -- every valid row up to this file line is written
    added          INTEGER NOT NULL DEFAULT 0,
    updated        INTEGER NOT NULL DEFAULT 0,
    unchanged      INTEGER NOT NULL DEFAULT 0,
    rejected       INTEGER NOT NULL DEFAULT 0,
    error          TEXT    NOT NULL DEFAULT '',
    started_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL,
    finished_ms    INTEGER
) STRICT;
CREATE INDEX subscriber_imports_by_list ON subscriber_imports (list_id, id);
CREATE INDEX subscriber_imports_by_file ON subscriber_imports (file_sha256, list_id);

-- Rows an import refused while writing (suppressed, left the list): kept
-- so that a resumed import still reports them. The rows refused by the
-- checks before writing are found again by reading the file.
CREATE TABLE subscriber_import_rejects (
    import_id INTEGER NOT NULL REFERENCES subscriber_imports (id) ON DELETE CASCADE,
    line      INTEGER NOT NULL,
    reason    TEXT    NOT NULL,
    PRIMARY KEY (import_id, line)
) STRICT, WITHOUT ROWID;
