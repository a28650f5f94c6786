package subscribers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ImportRecord is one import as the record (table subscriber_imports)
// keeps it: what it is doing or did, and how far it got.
type ImportRecord struct {
	ID       int64
	ListID   int64
	FileName string
	Actor    string
	// Status is writing, done or failed (resumable: import the same file
	// into the same list again).
	Status string
	// Rows counts the file's data rows; Valid those to write; Written
	// those written so far.
	Rows, Valid, Written      int64
	Added, Updated, Unchanged int64
	Rejected                  int64
	Error                     string
	Started, LastChange       time.Time
	Finished                  time.Time // zero until done
}

// Percent is how much of the writing is done, 0..100.
func (r ImportRecord) Percent() int {
	switch {
	case r.Status == "done":
		return 100
	case r.Valid <= 0:
		return 0
	}
	return int(min(100, r.Written*100/r.Valid))
}

const importColumns = `id, list_id, file_name, actor, status, rows_total, rows_valid, rows_written,
	added, updated, unchanged, rejected, error, started_ms, updated_ms, finished_ms`

func scanImport(sc interface{ Scan(...any) error }) (ImportRecord, error) {
	var r ImportRecord
	var started, updated int64
	var finished sql.NullInt64
	err := sc.Scan(&r.ID, &r.ListID, &r.FileName, &r.Actor, &r.Status, &r.Rows, &r.Valid, &r.Written,
		&r.Added, &r.Updated, &r.Unchanged, &r.Rejected, &r.Error, &started, &updated, &finished)
	r.Started, r.LastChange = time.UnixMilli(started), time.UnixMilli(updated)
	if finished.Valid {
		r.Finished = time.UnixMilli(finished.Int64)
	}
	return r, err
}

// ImportByID returns one import record.
func (s *Store) ImportByID(ctx context.Context, id int64) (ImportRecord, error) {
	r, err := scanImport(s.db.QueryRowContext(ctx, `SELECT `+importColumns+` FROM subscriber_imports WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("import %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("loading import %d: %w", id, err)
	}
	return r, nil
}

// Imports returns a list's latest import records, newest first.
func (s *Store) Imports(ctx context.Context, listSlug string, limit int) ([]ImportRecord, error) {
	l, err := s.ListBySlug(ctx, listSlug)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+importColumns+` FROM subscriber_imports
		WHERE list_id = ? ORDER BY id DESC LIMIT ?`, l.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing imports: %w", err)
	}
	defer rows.Close()
	var out []ImportRecord
	for rows.Next() {
		r, err := scanImport(rows)
		if err != nil {
			return nil, fmt.Errorf("listing imports: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// start makes the import record, or takes up the record of an earlier
// import of the same file into the same list that stopped half-way.
func (im *importer) start(ctx context.Context) error {
	now := im.s.now().UnixMilli()
	var id, lineDone, written, added, updated, unchanged int64
	err := im.s.db.QueryRowContext(ctx, `SELECT id, line_done, rows_written, added, updated, unchanged
		FROM subscriber_imports WHERE list_id = ? AND file_sha256 = ? AND consent_source = ?
		AND status IN ('writing', 'failed') ORDER BY id DESC LIMIT 1`,
		im.l.ID, im.f.sha256, im.opt.ConsentSource).Scan(&id, &lineDone, &written, &added, &updated, &unchanged)
	switch {
	case err == nil:
		im.id, im.lineDone, im.written = id, int(lineDone), written
		im.rep.ImportID, im.rep.Resumed = id, lineDone > 0
		im.rep.Added, im.rep.Updated, im.rep.Unchanged = int(added), int(updated), int(unchanged)
		if err := im.loadRejects(ctx); err != nil {
			return err
		}
		_, err = im.s.db.ExecContext(ctx, `UPDATE subscriber_imports SET status = 'writing', error = '',
			actor = ?, updated_ms = ? WHERE id = ?`, im.opt.Actor, now, id)
		if err != nil {
			return fmt.Errorf("resuming import %d: %w", id, err)
		}
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("looking for an unfinished import: %w", err)
	}
	res, err := im.s.db.ExecContext(ctx, `INSERT INTO subscriber_imports (list_id, file_name, file_sha256, file_bytes,
		consent_source, actor, status, started_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, 'writing', ?, ?)`,
		im.l.ID, im.opt.FileName, im.f.sha256, im.f.size, im.opt.ConsentSource, im.opt.Actor, now, now)
	if err != nil {
		return fmt.Errorf("recording import: %w", err)
	}
	im.id, _ = res.LastInsertId()
	im.rep.ImportID = im.id
	return nil
}

// loadRejects puts back the rows a stopped import refused while writing.
func (im *importer) loadRejects(ctx context.Context) error {
	rows, err := im.s.db.QueryContext(ctx, `SELECT line, reason, reason_ja FROM subscriber_import_rejects WHERE import_id = ?`, im.id)
	if err != nil {
		return fmt.Errorf("loading import %d: %w", im.id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r RejectedRow
		if err := rows.Scan(&r.Line, &r.Reason, &r.ReasonJA); err != nil {
			return fmt.Errorf("loading import %d: %w", im.id, err)
		}
		im.rep.Rejected = append(im.rep.Rejected, r)
		im.dbRejects++
	}
	return rows.Err()
}

// setStatus moves the record on, with the counts the checks found.
func (im *importer) setStatus(ctx context.Context, status string) error {
	_, err := im.s.db.ExecContext(ctx, `UPDATE subscriber_imports SET status = ?, rows_total = ?, rows_valid = ?,
		rejected = ?, updated_ms = ? WHERE id = ?`,
		status, im.rep.Rows, im.valid, len(im.rep.Rejected), im.s.now().UnixMilli(), im.id)
	if err != nil {
		return fmt.Errorf("recording import %d: %w", im.id, err)
	}
	return nil
}

// finish marks the record done.
func (im *importer) finish(ctx context.Context) error {
	now := im.s.now().UnixMilli()
	_, err := im.s.db.ExecContext(ctx, `UPDATE subscriber_imports SET status = 'done', rows_total = ?, rows_valid = ?,
		rejected = ?, updated_ms = ?, finished_ms = ? WHERE id = ?`,
		im.rep.Rows, im.valid, len(im.rep.Rejected), now, now, im.id)
	if err != nil {
		return fmt.Errorf("recording import %d as done: %w", im.id, err)
	}
	return nil
}

// stop records why the import stopped (best effort: when the database
// refuses this too, the record still says writing, which a new import
// of the file resumes all the same).
func (im *importer) stop(ctx context.Context, status string, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, err := im.s.db.ExecContext(ctx, `UPDATE subscriber_imports SET status = ?, error = ?, rows_total = ?, rows_valid = ?,
		updated_ms = ? WHERE id = ?`, status, cause.Error(), im.rep.Rows, im.valid, im.s.now().UnixMilli(), im.id)
	if err != nil {
		im.s.log.Warn("recording a stopped import", "import_id", im.id, "err", err)
	}
}
