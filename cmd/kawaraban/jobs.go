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
func (d *daemon) newScheduler(ctx context.Context) (*scheduler.Scheduler, error) {
	s, err := scheduler.New(d.e.db, scheduler.Options{Logger: d.e.log, Location: d.e.cfg.Location(), Registerer: d.m.reg})
	if err != nil {
		return nil, err
	}
	d.m.sending.Register(s)
	s.Register(jobReminders, func(ctx context.Context, f scheduler.Fire) error {
		_, err := d.progress.RunReminders(ctx, time.Now(), false)
		return err
	}, scheduler.KindDefaults{Policy: scheduler.RunOnce, MaxLateness: 20 * time.Hour})
	s.Register(jobDigest, func(ctx context.Context, f scheduler.Fire) error {
		return d.progress.SendDigest(ctx, time.Now())
	}, scheduler.KindDefaults{Policy: scheduler.RunOnce, MaxLateness: 3 * 24 * time.Hour})
	s.Register(jobHousekeeping, d.housekeeping, scheduler.KindDefaults{Policy: scheduler.Skip})
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

func (d *daemon) housekeeping(ctx context.Context, _ scheduler.Fire) error {
	var errs []error
	if n, err := d.m.subs.ExpireUnconfirmed(ctx); err != nil {
		errs = append(errs, err)
	} else if n > 0 {
		d.e.log.Info("expired unconfirmed subscriptions", "count", n)
	}
	if _, err := d.m.subs.PruneConsent(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := store.Optimize(ctx, d.e.db); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
