package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"kawaraban/scheduler"
)

// Job kinds registered with the scheduler. The scheduler knows nothing of
// what they do; these functions are the only place the two meet.
const (
	jobIssueSend    = "issue-send"   // one-off: an issue's send_at
	jobIssuesDue    = "issues-due"   // recurring backstop for due issues
	jobReminders    = "reminders"    // daily progress reminders
	jobDigest       = "digest"       // weekly digest to the coordinator
	jobHousekeeping = "housekeeping" // expiry, retention, PRAGMA optimize
)

// newScheduler registers every job kind and declares the system schedules
// (idempotently: a schedule an operator paused stays paused).
func (a *app) newScheduler(ctx context.Context) (*scheduler.Scheduler, error) {
	s, err := scheduler.New(a.e.db, scheduler.Options{Logger: a.e.log, Location: a.e.location(), Registerer: a.reg})
	if err != nil {
		return nil, err
	}
	startDue := func(ctx context.Context, _ scheduler.Fire) error { return a.startDue(ctx) }
	s.Register(jobIssueSend, startDue, scheduler.KindDefaults{Policy: scheduler.RunOnce})
	s.Register(jobIssuesDue, startDue, scheduler.KindDefaults{Policy: scheduler.Skip})
	s.Register(jobReminders, func(ctx context.Context, f scheduler.Fire) error {
		_, err := a.progress.RunReminders(ctx, time.Now(), false)
		return err
	}, scheduler.KindDefaults{Policy: scheduler.RunOnce, MaxLateness: 20 * time.Hour})
	s.Register(jobDigest, func(ctx context.Context, f scheduler.Fire) error {
		return a.progress.SendDigest(ctx, time.Now())
	}, scheduler.KindDefaults{Policy: scheduler.RunOnce, MaxLateness: 3 * 24 * time.Hour})
	s.Register(jobHousekeeping, a.housekeeping, scheduler.KindDefaults{Policy: scheduler.Skip})
	for _, sc := range []scheduler.Schedule{
		{Kind: jobIssuesDue, Name: "due issues", Spec: "@every 1m"},
		{Kind: jobReminders, Name: "daily reminders", Spec: "0 9 * * *"},
		{Kind: jobDigest, Name: "weekly digest", Spec: "0 9 * * 1"},
		{Kind: jobHousekeeping, Name: "housekeeping", Spec: "@hourly"},
	} {
		if _, err := s.Upsert(ctx, sc); err != nil {
			return nil, fmt.Errorf("declaring schedule %q: %w", sc.Name, err)
		}
	}
	return s, nil
}

// startDue moves due issues into sending and snapshots their recipients;
// the issues state machine and the idempotent snapshot make a second call
// harmless, so it may run from the scheduler, a kick and at start alike.
func (a *app) startDue(ctx context.Context) error {
	return a.issues.StartDue(ctx, time.Now(), outbox{a})
}

// kick asks the due-issue loop to look now (after "send now").
func (a *app) kick() {
	select {
	case a.kicks <- struct{}{}:
	default:
	}
}

// runDueLoop starts due issues at once when kicked, and every few seconds
// otherwise, so "send now" never waits for the next cron minute.
func (a *app) runDueLoop(ctx context.Context) error {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if err := a.startDue(ctx); err != nil && ctx.Err() == nil {
			a.e.log.Error("starting due issues", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-a.kicks:
		}
	}
}

// scheduleIssue records an issue's send_at as a one-off fire, so the
// schedule shows in the admin and survives restarts.
func (a *app) scheduleIssue(ctx context.Context, issueID int64, at time.Time) error {
	if a.sched == nil {
		return nil
	}
	_, err := a.sched.AddOnce(ctx, jobIssueSend, strconv.FormatInt(issueID, 10), at)
	return err
}

func (a *app) housekeeping(ctx context.Context, _ scheduler.Fire) error {
	var errs []error
	if n, err := a.subs.ExpireUnconfirmed(ctx); err != nil {
		errs = append(errs, err)
	} else if n > 0 {
		a.e.log.Info("expired unconfirmed subscriptions", "count", n)
	}
	if _, err := a.subs.PruneConsent(ctx); err != nil {
		errs = append(errs, err)
	}
	if _, err := a.e.db.ExecContext(ctx, "PRAGMA optimize"); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
