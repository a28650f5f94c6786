package scheduler

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"
)

// Tick does all the work due at now: it resumes fires an earlier process
// left unfinished, records and starts every due fire, and waits for the
// jobs it started. Run does the same from a timer; tests call Tick with an
// injected instant and never sleep. Do not call Tick while Run runs.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) error {
	started, _, err := s.tick(ctx, now, ctx)
	for _, done := range started {
		<-done
	}
	return err
}

// tick starts what is due at now, with jobs under jobCtx, and returns the
// started jobs and the next instant anything becomes due (zero: none
// known).
func (s *Scheduler) tick(ctx context.Context, now time.Time, jobCtx context.Context) ([]<-chan struct{}, time.Time, error) {
	s.tickMu.Lock()
	defer s.tickMu.Unlock()
	started, err := s.resumeOrphans(ctx, now, jobCtx)
	if err != nil {
		return started, time.Time{}, err
	}
	rows, err := s.active(ctx)
	if err != nil {
		return started, time.Time{}, err
	}
	var wake time.Time
	for _, r := range rows {
		done, next := s.fireDue(ctx, jobCtx, r, now)
		if done != nil {
			started = append(started, done)
		}
		if !next.IsZero() && (wake.IsZero() || next.Before(wake)) {
			wake = next
		}
	}
	return started, wake, nil
}

// active loads the schedules that are not paused.
func (s *Scheduler) active(ctx context.Context) ([]row, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT `+scheduleCols+` FROM schedules WHERE paused = 0 ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("loading schedules: %w", err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		r, err := scanRow(rs)
		if err != nil {
			return nil, fmt.Errorf("loading schedules: %w", err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("loading schedules: %w", err)
	}
	return out, nil
}

// fireDue decides what r's instants up to now call for, records it and
// starts the job. It returns the job's done channel (nil if none started)
// and r's next instant after now.
func (s *Scheduler) fireDue(ctx, jobCtx context.Context, r row, now time.Time) (<-chan struct{}, time.Time) {
	k, ok := s.known(r.Kind)
	if !ok || s.isRunning(r.ID) {
		return nil, time.Time{} // a finishing job wakes Run again
	}
	tm, err := parseTiming(r.Spec, r.At, r.TZ, s.opt.Location)
	if err != nil {
		s.log.Error("schedule unusable", "schedule_id", r.ID, "kind", r.Kind, "err", err)
		return nil, time.Time{}
	}
	n, last := tm.due(r.cursor, now)
	if n == 0 {
		return nil, nextRun(tm, r.cursor, now)
	}
	lateness := max(now.Sub(laterOf(last, r.since)), 0)
	reason := skipReason(r.Policy, r.MaxLateness, s.opt.Slack, lateness)
	id, inserted, err := s.record(ctx, r, last, now, reason)
	if err != nil {
		s.log.Error("recording fire", "schedule_id", r.ID, "kind", r.Kind, "err", err)
		return nil, time.Time{}
	}
	if !inserted {
		return nil, tm.next(now)
	}
	if n > 1 {
		s.log.Info("missed fires", "schedule_id", r.ID, "kind", r.Kind, "missed", n, "policy", string(r.Policy))
	}
	if reason != "" {
		s.metrics.fires.WithLabelValues(r.Kind, ResultSkipped).Inc()
		s.log.Warn("fire skipped", "schedule_id", r.ID, "kind", r.Kind, "fire_at", last, "reason", reason)
		return nil, tm.next(now)
	}
	s.metrics.lateness.WithLabelValues(r.Kind).Observe(lateness.Seconds())
	f := Fire{ID: id, ScheduleID: r.ID, Kind: r.Kind, Name: r.Name, Target: r.Target, At: last.In(tm.loc), Attempt: 1}
	return s.start(jobCtx, k, f), time.Time{}
}

// skipReason says why a fire this late is skipped, or "" to run it.
func skipReason(p Policy, maxLateness, slack, lateness time.Duration) string {
	switch {
	case p == Skip && lateness > slack:
		return fmt.Sprintf("missed by %v (policy skip)", lateness.Round(time.Second))
	case p != Skip && maxLateness > 0 && lateness > maxLateness:
		return fmt.Sprintf("late by %v, beyond max lateness %v", lateness.Round(time.Second), maxLateness)
	}
	return ""
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// record advances r's cursor to at and records the fire (or its skip) in
// one transaction. inserted is false when the fire was recorded before or
// the schedule changed meanwhile: then nothing may start.
func (s *Scheduler) record(ctx context.Context, r row, at, now time.Time, skip string) (id int64, inserted bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE schedules SET cursor = ? WHERE id = ? AND cursor = ? AND paused = 0`,
		at.Unix(), r.ID, r.cursor.Unix())
	if err != nil {
		return 0, false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, false, err
	}
	if skip == "" {
		res, err = tx.ExecContext(ctx, `INSERT INTO fires (schedule_id, fire_at, started) VALUES (?, ?, ?)
			ON CONFLICT (schedule_id, fire_at) DO NOTHING`, r.ID, at.Unix(), now.UnixMilli())
	} else {
		res, err = tx.ExecContext(ctx, `INSERT INTO fires (schedule_id, fire_at, started, finished, result, error)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (schedule_id, fire_at) DO NOTHING`,
			r.ID, at.Unix(), now.UnixMilli(), now.UnixMilli(), ResultSkipped, skip)
	}
	if err != nil {
		return 0, false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, false, err
	}
	id, err = res.LastInsertId()
	if err != nil {
		return 0, false, err
	}
	return id, n == 1, tx.Commit()
}

// resumeOrphans hands fires that were started but never finished, by a
// process that is gone, to their jobs again with Resumed set.
func (s *Scheduler) resumeOrphans(ctx context.Context, now time.Time, jobCtx context.Context) ([]<-chan struct{}, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT f.id, f.fire_at, f.attempts, s.id, s.kind, s.name, s.target, s.tz
		FROM fires f JOIN schedules s ON s.id = f.schedule_id
		WHERE f.finished IS NULL AND s.paused = 0 ORDER BY f.id`)
	if err != nil {
		return nil, fmt.Errorf("finding unfinished fires: %w", err)
	}
	var orphans []Fire
	var zones []string
	for rs.Next() {
		var f Fire
		var at int64
		var tz string
		if err := rs.Scan(&f.ID, &at, &f.Attempt, &f.ScheduleID, &f.Kind, &f.Name, &f.Target, &tz); err != nil {
			rs.Close()
			return nil, fmt.Errorf("finding unfinished fires: %w", err)
		}
		f.At, f.Resumed, f.Attempt = time.Unix(at, 0), true, f.Attempt+1
		orphans, zones = append(orphans, f), append(zones, tz)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("finding unfinished fires: %w", err)
	}
	var started []<-chan struct{}
	for i, f := range orphans {
		k, ok := s.known(f.Kind)
		if !ok || s.isRunning(f.ScheduleID) {
			continue
		}
		if loc, err := time.LoadLocation(zones[i]); err == nil && zones[i] != "" {
			f.At = f.At.In(loc)
		} else {
			f.At = f.At.In(s.opt.Location)
		}
		if _, err := s.db.ExecContext(ctx, `UPDATE fires SET attempts = ?, started = ? WHERE id = ? AND finished IS NULL`,
			f.Attempt, now.UnixMilli(), f.ID); err != nil {
			return started, fmt.Errorf("resuming fire %d: %w", f.ID, err)
		}
		s.log.Info("resuming unfinished fire", "fire_id", f.ID, "schedule_id", f.ScheduleID, "kind", f.Kind, "attempt", f.Attempt)
		started = append(started, s.start(jobCtx, k, f))
	}
	return started, nil
}

// known returns the kind's job, logging once when nobody registered it.
func (s *Scheduler) known(name string) (kind, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.kinds[name]
	if !ok && !s.warned[name] {
		s.warned[name] = true
		s.log.Warn("schedules of an unregistered job kind are not run", "kind", name)
	}
	return k, ok
}

func (s *Scheduler) isRunning(scheduleID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.running[scheduleID]
	return ok
}

// start runs f's job in its own goroutine and records the outcome.
func (s *Scheduler) start(jobCtx context.Context, k kind, f Fire) <-chan struct{} {
	done := make(chan struct{})
	s.mu.Lock()
	s.running[f.ScheduleID] = f.ID
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(done)
		defer s.poke()
		defer func() {
			s.mu.Lock()
			delete(s.running, f.ScheduleID)
			s.mu.Unlock()
		}()
		err := s.call(jobCtx, k, f)
		s.finish(jobCtx, f, err)
	}()
	return done
}

// call runs the job under the kind's timeout and turns a panic into an
// error.
func (s *Scheduler) call(jobCtx context.Context, k kind, f Fire) (err error) {
	ctx, cancel := context.WithTimeout(jobCtx, k.defaults.Timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("job panicked", "fire_id", f.ID, "kind", f.Kind, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("%w: %v", ErrPanic, p)
		}
	}()
	return k.fn(ctx, f)
}

// finish records a job's outcome. A job that failed because the scheduler
// is stopping stays unfinished, to be resumed at the next start.
func (s *Scheduler) finish(jobCtx context.Context, f Fire, jobErr error) {
	if jobErr != nil && jobCtx.Err() != nil {
		s.metrics.fires.WithLabelValues(f.Kind, "interrupted").Inc()
		s.log.Warn("job interrupted; it resumes at the next start", "fire_id", f.ID, "kind", f.Kind, "err", jobErr)
		return
	}
	result, msg := ResultOK, ""
	if jobErr != nil {
		result, msg = ResultFailed, jobErr.Error()
		s.log.Warn("job failed", "fire_id", f.ID, "kind", f.Kind, "err", jobErr)
	}
	s.metrics.fires.WithLabelValues(f.Kind, result).Inc()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(jobCtx), 10*time.Second)
	defer cancel()
	if _, err := s.db.ExecContext(ctx, `UPDATE fires SET finished = ?, result = ?, error = ? WHERE id = ?`,
		s.opt.Now().UnixMilli(), result, msg, f.ID); err != nil {
		s.log.Error("recording fire result", "fire_id", f.ID, "kind", f.Kind, "err", err)
	}
}
