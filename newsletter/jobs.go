package newsletter

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"kawaraban/progress"
	"kawaraban/scheduler"
	"kawaraban/store"
	"kawaraban/subscribers"
)

// JobHousekeeping is the scheduler kind of the hourly upkeep. Existing
// databases hold its schedule under this kind and the name "housekeeping":
// keep both.
const JobHousekeeping = "housekeeping"

// Housekeeping is the hourly upkeep of the database: subscriptions left
// unconfirmed past their links' life go (subscribers.ExpireUnconfirmed),
// consent events past their retention go (PruneConsent), then SQLite
// refreshes its planner statistics (store.Optimize). It lives here because
// it joins a domain package's retention rules with the database's upkeep
// under one schedule, and the scheduler knows no domain.
type Housekeeping struct {
	Subscribers *subscribers.Store
	// DB is the database store.Optimize tunes.
	DB *sql.DB
	// Logger receives how many subscriptions expired (nil: discarded).
	Logger *slog.Logger
}

// Run does one hour's upkeep. Every step runs even when one fails; the
// failures are joined.
func (h Housekeeping) Run(ctx context.Context, _ scheduler.Fire) error {
	var errs []error
	if n, err := h.Subscribers.ExpireUnconfirmed(ctx); err != nil {
		errs = append(errs, err)
	} else if n > 0 && h.Logger != nil {
		h.Logger.Info("expired unconfirmed subscriptions", "count", n)
	}
	if _, err := h.Subscribers.PruneConsent(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := store.Optimize(ctx, h.DB); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Register makes sc run the upkeep and declares its hourly system
// schedule, idempotently: a schedule an operator paused stays paused. A
// missed hour is skipped, not made up.
func (h Housekeeping) Register(ctx context.Context, sc *scheduler.Scheduler) error {
	sc.Register(JobHousekeeping, h.Run, scheduler.KindDefaults{Policy: scheduler.Skip})
	sch := scheduler.Schedule{Kind: JobHousekeeping, Name: "housekeeping", Spec: "@hourly"}
	if _, err := sc.Upsert(ctx, sch); err != nil {
		return fmt.Errorf("declaring schedule %q: %w", sch.Name, err)
	}
	return nil
}

// RegisterProgress makes sc run the plan's jobs (progress.Store.Jobs) and
// declares their system schedules, idempotently: a schedule an operator
// paused stays paused. A missed fire runs once, unless it is later than
// the job's MaxLateness.
func RegisterProgress(ctx context.Context, sc *scheduler.Scheduler, jobs []progress.Job) error {
	for _, j := range jobs {
		sc.Register(j.Kind, func(ctx context.Context, _ scheduler.Fire) error { return j.Run(ctx) },
			scheduler.KindDefaults{Policy: scheduler.RunOnce, MaxLateness: j.MaxLateness})
		if _, err := sc.Upsert(ctx, scheduler.Schedule{Kind: j.Kind, Name: j.Name, Spec: j.Spec}); err != nil {
			return fmt.Errorf("declaring schedule %q: %w", j.Name, err)
		}
	}
	return nil
}
