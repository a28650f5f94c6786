package newsletter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kawaraban/issues"
	"kawaraban/scheduler"
)

// JobListRecurring is the scheduler kind that sends a list's oldest ready
// draft (target: the list's slug), e.g. monthly on the first Monday.
const JobListRecurring = "list-recurring"

// ErrNoReadyDraft is a recurring list schedule's fire that found nothing
// to send; the scheduler records it as the fire's error so the admin sees
// why nothing went out.
var ErrNoReadyDraft = errors.New("no draft ready to send (drafts needing approval must be approved first)")

// SendOldestReady is a recurring list schedule's fire: it sends the list's
// oldest draft that may be sent (approved, when it needs approval). A
// resumed fire (the daemon stopped mid-job) first checks whether it already
// sent one, so a fire never sends two issues.
func (s *Sending) SendOldestReady(ctx context.Context, f scheduler.Fire) error {
	l, err := s.subs.ListBySlug(ctx, f.Target)
	if err != nil {
		return fmt.Errorf("recurring send for list %q: %w", f.Target, err)
	}
	if f.Resumed {
		sent, err := s.sentByScheduler(ctx, l.ID, f.At)
		if err != nil {
			return fmt.Errorf("recurring send for list %q: %w", f.Target, err)
		}
		if sent {
			s.Kick()
			return nil
		}
	}
	is, ok, err := s.oldestReady(ctx, l.ID)
	if err != nil {
		return fmt.Errorf("recurring send for list %q: %w", f.Target, err)
	}
	if !ok {
		s.opt.Logger.Warn("recurring schedule found no draft to send", "list", f.Target, "fire_id", f.ID)
		return fmt.Errorf("recurring send for list %q: %w", f.Target, ErrNoReadyDraft)
	}
	if err := s.SendNow(ctx, is.ID, issues.SchedulerActor()); err != nil {
		return fmt.Errorf("recurring send for list %q: issue %d: %w", f.Target, is.ID, err)
	}
	s.opt.Logger.Info("recurring schedule sends issue", "list", f.Target, "issue_id", is.ID, "fire_id", f.ID)
	return nil
}

// oldestReady finds the list's oldest draft that SendNow accepts. A joint
// draft is sent only by its lead list's schedule (issue 17): another
// list's schedule does not send to the lead's readers.
func (s *Sending) oldestReady(ctx context.Context, listID int64) (issues.Issue, bool, error) {
	var best issues.Issue
	found := false
	const page = 200
	for off := 0; ; off += page {
		iss, err := s.issues.ListByList(ctx, listID, issues.Page{Limit: page, Offset: off})
		if err != nil {
			return issues.Issue{}, false, err
		}
		for _, is := range iss {
			if is.Status != issues.StatusDraft || (is.RequireApproval && is.ApprovedBy == "") || is.ListID != listID {
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
func (s *Sending) sentByScheduler(ctx context.Context, listID int64, since time.Time) (bool, error) {
	iss, err := s.issues.ListByList(ctx, listID, issues.Page{Limit: 50})
	if err != nil {
		return false, err
	}
	for _, is := range iss {
		if is.Status == issues.StatusDraft || is.UpdatedAt.Before(since) {
			continue
		}
		evs, err := s.issues.Events(ctx, is.ID)
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

// AddRecurring stores a list-recurring schedule named by the list, spec
// and timezone (the same three again is the same schedule); tz "" is def.
func AddRecurring(ctx context.Context, sc *scheduler.Scheduler, listSlug, spec, tz string, def *time.Location) (scheduler.Status, error) {
	if tz == "" {
		tz = def.String()
	}
	s, err := sc.Upsert(ctx, scheduler.Schedule{Kind: JobListRecurring, Name: listSlug + " " + spec + " " + tz,
		Spec: spec, TZ: tz, Target: listSlug})
	if err != nil {
		return scheduler.Status{}, err
	}
	return sc.ByID(ctx, s.ID)
}

// Register makes sc run the issue jobs — an issue's send_at
// (JobIssueSend) and a list's recurring send (JobListRecurring) — and
// lets Schedule record send times with it.
func (s *Sending) Register(sc *scheduler.Scheduler) {
	s.Scheduler = sc
	sc.Register(JobIssueSend, func(ctx context.Context, _ scheduler.Fire) error { return s.StartDue(ctx) },
		scheduler.KindDefaults{Policy: scheduler.RunOnce})
	sc.Register(JobListRecurring, s.SendOldestReady, scheduler.KindDefaults{Policy: scheduler.RunOnce})
}
