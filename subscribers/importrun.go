package subscribers

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// How an import writes: batches sized so that one transaction holds the
// write lock about batchTarget, then a pause of batchGap. The pause is at
// least the longest sleep of SQLite's busy handler (100 ms), so a writer
// of the daemon that waits for the lock wakes within it and gets its turn:
// the daemon's writes are delayed by at most about half a second, never
// refused with "database is locked".
const (
	batchGap    = 100 * time.Millisecond
	batchFirst  = 500
	batchMin    = 50
	batchMax    = 20000
	batchTarget = 400 * time.Millisecond
	batchTries  = 6 // a failing batch is tried again after 0.5, 1, 2, 4, 8 s

	importPauseFirst = 500 * time.Millisecond
)

// importer is one run of Import.
type importer struct {
	s   *Store
	l   List
	opt ImportOptions
	f   *importFile
	rep *ImportReport

	id        int64 // the import record; 0 for a dry run
	valid     int64 // rows that passed the checks
	lineDone  int   // valid rows up to this line are written
	written   int64 // valid rows written
	dbRejects int   // rows refused while writing, in rep.Rejected
	lastTell  time.Time
	longest   time.Duration // the longest batch transaction: the longest hold of the write lock
}

// tell reports progress, at most five times a second unless final.
func (im *importer) tell(phase string, done, total int64, final bool) {
	if im.opt.Progress == nil || (!final && time.Since(im.lastTell) < 200*time.Millisecond) {
		return
	}
	im.lastTell = time.Now()
	im.opt.Progress(ImportProgress{ImportID: im.id, Phase: phase, Done: done, Total: total})
}

// check reads every row, records the rejected ones and finds the
// repeated addresses; nothing is written and no transaction is open.
func (im *importer) check(ctx context.Context) error {
	w, err := im.f.walk(im.l)
	if err != nil {
		return err
	}
	for {
		row, reason, ok, err := w.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		im.rep.Rows++
		if !reason.none() {
			im.rep.Rejected = append(im.rep.Rejected, reason.row(row.line))
		}
		im.tell("checking", w.read(), im.f.size, false)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	im.f.dups = findDups(w.keys)
	im.valid = int64(len(w.keys) - len(im.f.dups))
	for line, first := range im.f.dups {
		im.rep.Rejected = append(im.rep.Rejected, dupReason(first).row(line))
	}
	im.tell("checking", im.f.size, im.f.size, true)
	return nil
}

// plan is a dry run's second pass: it asks the database (reads only, no
// write lock) what each good row would do.
func (im *importer) plan(ctx context.Context) error {
	w, err := im.f.walk(im.l)
	if err != nil {
		return err
	}
	batch := make([]importRow, 0, 1000)
	for {
		row, reason, ok, err := w.next()
		if err != nil {
			return err
		}
		if ok && reason.none() {
			batch = append(batch, row)
		}
		if len(batch) == cap(batch) || (!ok && len(batch) > 0) {
			if err := im.s.planRows(ctx, im.l, batch, im.rep); err != nil {
				return err
			}
			batch = batch[:0]
		}
		if !ok {
			return nil
		}
	}
}

// write writes the valid rows in batches, each batch with the record.
func (im *importer) write(ctx context.Context) error {
	if err := im.setStatus(ctx, "writing"); err != nil {
		return err
	}
	w, err := im.f.walk(im.l)
	if err != nil {
		return err
	}
	size := batchFirst
	batch := make([]importRow, 0, size)
	for {
		row, reason, ok, err := w.next()
		if err != nil {
			return err
		}
		if ok && (!reason.none() || row.line <= im.lineDone) {
			continue // rejected already, or written before a resume
		}
		if ok {
			batch = append(batch, row)
		}
		if len(batch) > 0 && (len(batch) >= size || !ok) {
			took, err := im.writeBatch(ctx, batch)
			if err != nil {
				return err
			}
			size = nextBatchSize(size, len(batch), took)
			batch = batch[:0]
			im.tell("writing", im.written, im.valid, false)
			select {
			case <-time.After(batchGap):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if !ok {
			break
		}
	}
	im.tell("writing", im.written, im.valid, true)
	return nil
}

// nextBatchSize aims the next batch at batchTarget from how long the last
// one of n rows took.
func nextBatchSize(size, n int, took time.Duration) int {
	if n < size || took <= 0 {
		return size
	}
	next := int(float64(n) * float64(batchTarget) / float64(took))
	next = min(next, 2*size) // grow gently: the database may get busier
	return min(max(next, batchMin), batchMax)
}

// writeBatch writes one batch, trying again after growing pauses when the
// database refuses (locked, full disk).
func (im *importer) writeBatch(ctx context.Context, batch []importRow) (time.Duration, error) {
	pause := im.s.importPause
	if pause <= 0 {
		pause = importPauseFirst
	}
	for try := 1; ; try++ {
		start := time.Now()
		err := im.commitBatch(ctx, batch)
		if err == nil {
			took := time.Since(start)
			im.longest = max(im.longest, took)
			return took, nil
		}
		if try == batchTries || ctx.Err() != nil {
			return 0, err
		}
		im.s.log.Warn("import batch failed; retrying", "import_id", im.id, "line", batch[0].line, "try", try, "err", err)
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		pause *= 2
	}
}

func (im *importer) commitBatch(ctx context.Context, batch []importRow) error {
	tx, err := im.s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning import batch: %w", err)
	}
	defer tx.Rollback()
	var got ImportReport
	if err := im.s.writeRows(ctx, tx, im.l, batch, im.opt, &got); err != nil {
		return err
	}
	for _, r := range got.Rejected {
		if _, err := tx.ExecContext(ctx, `INSERT INTO subscriber_import_rejects (import_id, line, reason, reason_ja) VALUES (?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, im.id, r.Line, r.Reason, r.ReasonJA); err != nil {
			return fmt.Errorf("recording rejected line %d: %w", r.Line, err)
		}
	}
	last := batch[len(batch)-1].line
	_, err = tx.ExecContext(ctx, `UPDATE subscriber_imports SET rows_written = rows_written + ?, line_done = ?,
		added = added + ?, updated = updated + ?, unchanged = unchanged + ?, updated_ms = ? WHERE id = ?`,
		len(batch), last, got.Added, got.Updated, got.Unchanged, im.s.now().UnixMilli(), im.id)
	if err != nil {
		return fmt.Errorf("recording import progress: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing import batch: %w", err)
	}
	im.written += int64(len(batch))
	im.lineDone = last
	im.rep.Added += got.Added
	im.rep.Updated += got.Updated
	im.rep.Unchanged += got.Unchanged
	im.rep.Rejected = append(im.rep.Rejected, got.Rejected...)
	im.dbRejects += len(got.Rejected)
	return nil
}

// leftReason is the rejection of an address that left the list.
func leftReason(unsubAt sql.NullInt64, loc *time.Location) rejectReason {
	day := unixOrZero(unsubAt, loc)
	return rejectReason{"the address left this list on " + day.Format(time.DateOnly) + "; an import does not subscribe it again",
		day.Format("2006年1月2日") + "にこのメールマガジンの配信を停止したアドレスです(取り込みでは再登録しません)"}
}
