package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kawaraban/scheduler"
	"kawaraban/store"
)

// Job kinds registered with the scheduler. The scheduler knows nothing of
// what they do; this function is the only place the two meet.
const (
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
	a.sending.Register(s)
	s.Register(jobReminders, func(ctx context.Context, f scheduler.Fire) error {
		_, err := a.progress.RunReminders(ctx, time.Now(), false)
		return err
	}, scheduler.KindDefaults{Policy: scheduler.RunOnce, MaxLateness: 20 * time.Hour})
	s.Register(jobDigest, func(ctx context.Context, f scheduler.Fire) error {
		return a.progress.SendDigest(ctx, time.Now())
	}, scheduler.KindDefaults{Policy: scheduler.RunOnce, MaxLateness: 3 * 24 * time.Hour})
	s.Register(jobHousekeeping, a.housekeeping, scheduler.KindDefaults{Policy: scheduler.Skip})
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
	if err := store.Optimize(ctx, a.e.db); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
