package scheduler

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Fire results as recorded.
const (
	ResultRunning = "running"
	ResultOK      = "ok"
	ResultFailed  = "failed"
	ResultSkipped = "skipped"
)

// FireRecord is one recorded fire.
type FireRecord struct {
	// ID is the fire's row id.
	ID int64
	// At is the scheduled instant; Started and Finished are when its last
	// run began and ended (Finished is zero while running or after a
	// crash).
	At, Started, Finished time.Time
	// Result is ResultRunning, ResultOK, ResultFailed or ResultSkipped.
	Result string
	// Error is the job's error, or why the fire was skipped.
	Error string
	// Attempts counts runs, more than 1 after resumes.
	Attempts int
}

// Schedule states, as Status.State reports them.
const (
	// StateActive: the schedule will fire (at Next).
	StateActive = "active"
	// StatePaused: an operator paused it; it fires when resumed.
	StatePaused = "paused"
	// StateDone: a one-off that has fired; it will not fire again.
	StateDone = "done"
)

// Status is a schedule with its next instant and its latest fire, for the
// admin UI and API.
type Status struct {
	Schedule
	// Next is the next instant it will fire, zero when paused or done.
	Next time.Time
	// Last is the latest recorded fire, nil if none.
	Last *FireRecord
}

// State is StatePaused for a paused schedule, StateDone for a one-off
// whose fire has run (whatever its result) and StateActive otherwise.
func (s Status) State() string {
	switch {
	case s.Paused:
		return StatePaused
	case s.Spec == "" && s.Next.IsZero() && s.Last != nil && s.Last.Result != ResultRunning:
		return StateDone
	}
	return StateActive
}

const statusQuery = `SELECT s.id, s.kind, s.name, s.spec, s.once_at, s.tz, s.target, s.policy, s.max_lateness,
	s.paused, s.created, s.since, s.cursor, f.id, f.fire_at, f.started, f.finished, f.result, f.error, f.attempts
	FROM schedules s LEFT JOIN fires f
	ON f.id = (SELECT id FROM fires WHERE schedule_id = s.id ORDER BY fire_at DESC LIMIT 1)`

// List returns every schedule, ordered by kind and name.
func (s *Scheduler) List(ctx context.Context) ([]Status, error) {
	rows, err := s.db.QueryContext(ctx, statusQuery+` ORDER BY s.kind, s.name`)
	if err != nil {
		return nil, fmt.Errorf("listing schedules: %w", err)
	}
	defer rows.Close()
	now := s.opt.Now()
	var out []Status
	for rows.Next() {
		st, err := s.scanStatus(rows, now)
		if err != nil {
			return nil, fmt.Errorf("listing schedules: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing schedules: %w", err)
	}
	return out, nil
}

// ByID returns one schedule's status.
func (s *Scheduler) ByID(ctx context.Context, id int64) (Status, error) {
	st, err := s.scanStatus(s.db.QueryRowContext(ctx, statusQuery+` WHERE s.id = ?`, id), s.opt.Now())
	if errors.Is(err, sql.ErrNoRows) {
		return Status{}, fmt.Errorf("loading schedule %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Status{}, fmt.Errorf("loading schedule %d: %w", id, err)
	}
	return st, nil
}

func (s *Scheduler) scanStatus(sc interface{ Scan(...any) error }, now time.Time) (Status, error) {
	var x rowScan
	var fid, fat, started, finished, attempts sql.NullInt64
	var result, ferr sql.NullString
	if err := sc.Scan(append(x.dest(), &fid, &fat, &started, &finished, &result, &ferr, &attempts)...); err != nil {
		return Status{}, err
	}
	r := x.row()
	st := Status{Schedule: r.Schedule}
	if tm, err := parseTiming(r.Spec, r.At, r.TZ, s.opt.Location); err == nil {
		if !r.At.IsZero() {
			st.At = tm.once.In(tm.loc)
		}
		if !r.Paused {
			st.Next = nextRun(tm, r.cursor, now)
		}
	}
	if fid.Valid {
		st.Last = &FireRecord{ID: fid.Int64, At: time.Unix(fat.Int64, 0), Started: time.UnixMilli(started.Int64),
			Result: result.String, Error: ferr.String, Attempts: int(attempts.Int64)}
		if finished.Valid {
			st.Last.Finished = time.UnixMilli(finished.Int64)
		}
	}
	return st, nil
}

// nextRun is the instant a schedule fires next: a one-off not yet fired at
// its instant (even if past), a recurring one at its next instant from now.
func nextRun(tm timing, cursor, now time.Time) time.Time {
	if tm.spec == nil {
		return tm.next(cursor)
	}
	if cursor.After(now) {
		now = cursor
	}
	return tm.next(now)
}
