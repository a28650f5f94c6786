package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"kawaraban/issues"
	"kawaraban/scheduler"
)

// Job kinds registered with the scheduler. The scheduler knows nothing of
// what they do; these functions are the only place the two meet.
const (
	jobIssueSend    = "issue-send"   // one-off: an issue's send_at
	jobReminders    = "reminders"    // daily progress reminders
	jobDigest       = "digest"       // weekly digest to the coordinator
	jobHousekeeping = "housekeeping" // expiry, retention, PRAGMA optimize
	// jobListRecurring sends a list's oldest ready draft (target: the
	// list's slug), e.g. monthly on the first Monday.
	jobListRecurring = "list-recurring"
)

// errNoReadyDraft is a recurring list schedule's fire that found nothing
// to send; the scheduler records it as the fire's error so the admin sees
// why nothing went out.
var errNoReadyDraft = errors.New("no draft ready to send (drafts needing approval must be approved first)")

// newScheduler registers every job kind and declares the system schedules
// (idempotently: a schedule an operator paused stays paused).
func (a *app) newScheduler(ctx context.Context) (*scheduler.Scheduler, error) {
	s, err := scheduler.New(a.e.db, scheduler.Options{Logger: a.e.log, Location: a.e.location(), Registerer: a.reg})
	if err != nil {
		return nil, err
	}
	startDue := func(ctx context.Context, _ scheduler.Fire) error { return a.startDue(ctx) }
	s.Register(jobIssueSend, startDue, scheduler.KindDefaults{Policy: scheduler.RunOnce})
	s.Register(jobReminders, func(ctx context.Context, f scheduler.Fire) error {
		_, err := a.progress.RunReminders(ctx, time.Now(), false)
		return err
	}, scheduler.KindDefaults{Policy: scheduler.RunOnce, MaxLateness: 20 * time.Hour})
	s.Register(jobDigest, func(ctx context.Context, f scheduler.Fire) error {
		return a.progress.SendDigest(ctx, time.Now())
	}, scheduler.KindDefaults{Policy: scheduler.RunOnce, MaxLateness: 3 * 24 * time.Hour})
	s.Register(jobHousekeeping, a.housekeeping, scheduler.KindDefaults{Policy: scheduler.Skip})
	s.Register(jobListRecurring, a.sendOldestReady, scheduler.KindDefaults{Policy: scheduler.RunOnce})
	for _, sc := range []scheduler.Schedule{
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

// sendOldestReady is a recurring list schedule's fire: it sends the list's
// oldest draft that may be sent (approved, when it needs approval) and
// kicks the due loop. A resumed fire (the daemon stopped mid-job) first
// checks whether it already sent one, so a fire never sends two issues.
func (a *app) sendOldestReady(ctx context.Context, f scheduler.Fire) error {
	l, err := a.subs.ListBySlug(ctx, f.Target)
	if err != nil {
		return fmt.Errorf("recurring send for list %q: %w", f.Target, err)
	}
	if f.Resumed {
		sent, err := a.sentByScheduler(ctx, l.ID, f.At)
		if err != nil {
			return fmt.Errorf("recurring send for list %q: %w", f.Target, err)
		}
		if sent {
			a.kick()
			return nil
		}
	}
	is, ok, err := a.oldestReady(ctx, l.ID)
	if err != nil {
		return fmt.Errorf("recurring send for list %q: %w", f.Target, err)
	}
	if !ok {
		a.e.log.Warn("recurring schedule found no draft to send", "list", f.Target, "fire_id", f.ID)
		return fmt.Errorf("recurring send for list %q: %w", f.Target, errNoReadyDraft)
	}
	if _, err := a.issues.SendNow(ctx, is.ID, issues.Actor{Login: "scheduler", Source: "scheduler"}); err != nil {
		return fmt.Errorf("recurring send for list %q: issue %d: %w", f.Target, is.ID, err)
	}
	a.e.log.Info("recurring schedule sends issue", "list", f.Target, "issue_id", is.ID, "fire_id", f.ID)
	a.kick()
	return nil
}

// oldestReady finds the list's oldest draft that SendNow accepts.
func (a *app) oldestReady(ctx context.Context, listID int64) (issues.Issue, bool, error) {
	var best issues.Issue
	found := false
	const page = 200
	for off := 0; ; off += page {
		iss, err := a.issues.ListByList(ctx, listID, issues.Page{Limit: page, Offset: off})
		if err != nil {
			return issues.Issue{}, false, err
		}
		for _, is := range iss {
			if is.Status != issues.StatusDraft || (is.RequireApproval && is.ApprovedBy == "") {
				continue
			}
			if !found || is.ID < best.ID {
				best, found = is, true
			}
		}
		if len(iss) < page {
			return best, found, nil
		}
	}
}

// sentByScheduler reports whether the scheduler sent a draft of the list
// at or after since (a resumed fire's own earlier run).
func (a *app) sentByScheduler(ctx context.Context, listID int64, since time.Time) (bool, error) {
	iss, err := a.issues.ListByList(ctx, listID, issues.Page{Limit: 50})
	if err != nil {
		return false, err
	}
	for _, is := range iss {
		if is.Status == issues.StatusDraft || is.UpdatedAt.Before(since) {
			continue
		}
		evs, err := a.issues.Events(ctx, is.ID)
		if err != nil {
			return false, err
		}
		for _, ev := range evs {
			// The due loop also acts as "scheduler", but never on a draft.
			if ev.Actor == "scheduler" && ev.From == issues.StatusDraft && !ev.At.Before(since) {
				return true, nil
			}
		}
	}
	return false, nil
}
