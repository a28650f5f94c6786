package scheduler

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Schedule is a recurring (Spec) or one-off (At) schedule of a job kind.
type Schedule struct {
	// ID is assigned by Upsert.
	ID int64
	// Kind names a registered job; Name tells its schedules apart.
	Kind, Name string
	// Spec is a five-field cron spec or a descriptor (@daily, @every 1m);
	// empty for a one-off. When both the day of the month and the day of
	// the week are restricted, both must match (unlike Vixie cron's
	// either): "0 10 1-7 * 1" is 10:00 on the first Monday of the month.
	Spec string
	// At is a one-off's instant; zero for a recurring schedule.
	At time.Time
	// TZ is an IANA timezone name; empty means Options.Location.
	TZ string
	// Target is handed to the job as Fire.Target (e.g. an issue id).
	Target string
	// Policy for missed fires; empty means the kind's default.
	Policy Policy
	// MaxLateness after which a RunOnce fire is skipped; zero means the
	// kind's default.
	MaxLateness time.Duration
	// Paused schedules do not fire. Upsert sets it only on creation, so a
	// schedule an operator paused stays paused when cmd declares it again.
	Paused bool
	// Created is when the schedule was first stored.
	Created time.Time
}

// row is a schedule as stored, with the fields only the scheduler uses.
type row struct {
	Schedule
	since, cursor time.Time
}

const scheduleCols = `id, kind, name, spec, once_at, tz, target, policy, max_lateness, paused, created, since, cursor`

// rowScan holds the scan targets of scheduleCols.
type rowScan struct {
	r                               row
	once                            sql.NullInt64
	maxLate, created, since, cursor int64
}

func (x *rowScan) dest() []any {
	return []any{&x.r.ID, &x.r.Kind, &x.r.Name, &x.r.Spec, &x.once, &x.r.TZ, &x.r.Target, &x.r.Policy,
		&x.maxLate, &x.r.Paused, &x.created, &x.since, &x.cursor}
}

func (x *rowScan) row() row {
	r := x.r
	if x.once.Valid {
		r.At = time.Unix(x.once.Int64, 0)
	}
	r.MaxLateness = time.Duration(x.maxLate) * time.Second
	r.Created, r.since, r.cursor = time.Unix(x.created, 0), time.Unix(x.since, 0), time.Unix(x.cursor, 0)
	return r
}

func scanRow(sc interface{ Scan(...any) error }) (row, error) {
	var x rowScan
	if err := sc.Scan(x.dest()...); err != nil {
		return row{}, err
	}
	return x.row(), nil
}

// AddOnce schedules kind to fire once at at with target, e.g. an issue's
// send_at. There is one such schedule per (kind, target): calling it again
// moves the instant. An instant in the past fires at the next tick.
func (s *Scheduler) AddOnce(ctx context.Context, kind, target string, at time.Time) (Schedule, error) {
	return s.Upsert(ctx, Schedule{Kind: kind, Name: target, Target: target, At: at})
}

// Upsert stores sc, matched by (Kind, Name), and returns it as stored.
// Changing the timing of an existing schedule starts it afresh from now
// (a one-off at its new instant); changing only Target, Policy or
// MaxLateness keeps its history. An invalid spec or an unknown timezone is
// refused with an error naming it and the reason.
func (s *Scheduler) Upsert(ctx context.Context, sc Schedule) (Schedule, error) {
	tm, err := s.validate(&sc)
	if err != nil {
		return Schedule{}, err
	}
	now := s.opt.Now()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Schedule{}, fmt.Errorf("saving schedule %s/%s: %w", sc.Kind, sc.Name, err)
	}
	defer tx.Rollback()
	old, err := scanRow(tx.QueryRowContext(ctx, `SELECT `+scheduleCols+` FROM schedules WHERE kind = ? AND name = ?`, sc.Kind, sc.Name))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		err = insertSchedule(ctx, tx, &sc, tm, now)
	case err == nil:
		err = updateSchedule(ctx, tx, &sc, old, tm, now)
	}
	if err != nil {
		return Schedule{}, fmt.Errorf("saving schedule %s/%s: %w", sc.Kind, sc.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return Schedule{}, fmt.Errorf("saving schedule %s/%s: %w", sc.Kind, sc.Name, err)
	}
	s.poke()
	return sc, nil
}

// validate fills defaults into sc and checks it.
func (s *Scheduler) validate(sc *Schedule) (timing, error) {
	k, ok := s.kind(sc.Kind)
	if !ok {
		return timing{}, fmt.Errorf("%w %q", ErrUnknownKind, sc.Kind)
	}
	if sc.Name == "" {
		return timing{}, fmt.Errorf("schedule of kind %s: name is empty", sc.Kind)
	}
	if sc.Policy == "" {
		sc.Policy = k.defaults.Policy
	}
	if sc.Policy != RunOnce && sc.Policy != Skip {
		return timing{}, fmt.Errorf("schedule %s/%s: policy %q: must be run-once or skip", sc.Kind, sc.Name, sc.Policy)
	}
	if sc.MaxLateness == 0 {
		sc.MaxLateness = k.defaults.MaxLateness
	}
	if sc.MaxLateness < 0 {
		return timing{}, fmt.Errorf("schedule %s/%s: max lateness %v is negative", sc.Kind, sc.Name, sc.MaxLateness)
	}
	tm, err := parseTiming(sc.Spec, sc.At, sc.TZ, s.opt.Location)
	if err != nil {
		return timing{}, fmt.Errorf("schedule %s/%s: %w", sc.Kind, sc.Name, err)
	}
	if !sc.At.IsZero() {
		sc.At = tm.once
	}
	return tm, nil
}

// startCursor is where a schedule whose timing was just set starts: fires
// after now for a recurring schedule, its instant for a one-off.
func startCursor(tm timing, now time.Time) time.Time {
	if tm.spec == nil {
		return tm.once.Add(-time.Second)
	}
	return now
}

func insertSchedule(ctx context.Context, tx *sql.Tx, sc *Schedule, tm timing, now time.Time) error {
	sc.Created = now.Truncate(time.Second)
	res, err := tx.ExecContext(ctx, `INSERT INTO schedules (kind, name, spec, once_at, tz, target, policy, max_lateness, paused, created, since, cursor)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sc.Kind, sc.Name, sc.Spec, onceArg(sc.At), sc.TZ, sc.Target, string(sc.Policy),
		int64(sc.MaxLateness/time.Second), sc.Paused, now.Unix(), now.Unix(), startCursor(tm, now).Unix())
	if err != nil {
		return err
	}
	sc.ID, err = res.LastInsertId()
	return err
}

func updateSchedule(ctx context.Context, tx *sql.Tx, sc *Schedule, old row, tm timing, now time.Time) error {
	sc.ID, sc.Paused, sc.Created = old.ID, old.Paused, old.Created
	since, cursor := old.since, old.cursor
	if sc.Spec != old.Spec || !sc.At.Equal(old.At) || sc.TZ != old.TZ {
		since, cursor = now, startCursor(tm, now)
		if tm.spec != nil && old.cursor.After(cursor) {
			cursor = old.cursor
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE schedules SET spec = ?, once_at = ?, tz = ?, target = ?, policy = ?,
		max_lateness = ?, since = ?, cursor = ? WHERE id = ?`,
		sc.Spec, onceArg(sc.At), sc.TZ, sc.Target, string(sc.Policy), int64(sc.MaxLateness/time.Second),
		since.Unix(), cursor.Unix(), sc.ID)
	return err
}

func onceArg(at time.Time) any {
	if at.IsZero() {
		return nil
	}
	return at.Unix()
}

// Remove deletes a schedule and its fire history.
func (s *Scheduler) Remove(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM schedules WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("removing schedule %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("removing schedule %d: %w", id, ErrNotFound)
	}
	return nil
}

// Pause stops a schedule from firing until Resume. A fire already running
// goes on.
func (s *Scheduler) Pause(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `UPDATE schedules SET paused = 1 WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("pausing schedule %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("pausing schedule %d: %w", id, ErrNotFound)
	}
	return nil
}

// Resume lets a paused schedule fire again. Instants of a recurring
// schedule that passed while it was paused are not made up; a one-off
// whose instant passed fires at the next tick.
func (s *Scheduler) Resume(ctx context.Context, id int64) error {
	now := s.opt.Now()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("resuming schedule %d: %w", id, err)
	}
	defer tx.Rollback()
	r, err := scanRow(tx.QueryRowContext(ctx, `SELECT `+scheduleCols+` FROM schedules WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("resuming schedule %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("resuming schedule %d: %w", id, err)
	}
	if !r.Paused {
		return nil
	}
	cursor := r.cursor
	if r.Spec != "" && now.After(cursor) {
		cursor = now
	}
	if _, err := tx.ExecContext(ctx, `UPDATE schedules SET paused = 0, since = ?, cursor = ? WHERE id = ?`,
		now.Unix(), cursor.Unix(), id); err != nil {
		return fmt.Errorf("resuming schedule %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("resuming schedule %d: %w", id, err)
	}
	s.poke()
	return nil
}
