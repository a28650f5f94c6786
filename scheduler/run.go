package scheduler

import (
	"context"
	"time"
)

// Run fires schedules until ctx ends. It wakes at the next due instant (at
// least once a minute, and whenever a schedule changes or a job ends).
// When ctx ends it stops starting fires, lets running jobs finish within
// Options.ShutdownGrace, then cancels them (they resume at the next start)
// and returns nil once all have returned.
func (s *Scheduler) Run(ctx context.Context) error {
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			s.stop(cancelJobs)
			return nil
		case <-timer.C:
		case <-s.wake:
		}
		now := s.opt.Now()
		_, next, err := s.tick(ctx, now, jobCtx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("scheduler tick", "err", err)
		}
		wait := time.Minute
		if !next.IsZero() && next.Sub(now) < wait {
			wait = max(next.Sub(now), 0)
		}
		timer.Reset(wait)
	}
}

func (s *Scheduler) stop(cancelJobs context.CancelFunc) {
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	grace := time.NewTimer(s.opt.ShutdownGrace)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
		cancelJobs()
		<-done
	}
}
