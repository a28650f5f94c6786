package newsletter

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"kawaraban/progress"
	"kawaraban/scheduler"
	"kawaraban/subscribers"
)

// TestHousekeeping: the hourly fire expires a subscription left
// unconfirmed past its link's life and keeps the confirmed one; declaring
// the schedule again at the next start keeps an operator's pause.
func TestHousekeeping(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t)
	s.importTo(t, "kankyo-hozen", "ok@example.jp")
	if err := s.subs.Subscribe(ctx, subscribersRequest("late@example.jp", "kankyo-hozen")); err != nil {
		t.Fatal(err)
	}
	h := Housekeeping{Subscribers: s.subs, DB: s.db}
	if err := h.Register(ctx, s.sched); err != nil {
		t.Fatal(err)
	}
	// On the hour, a week and more later: the link has expired.
	s.clock.Set(s.clock.Now().Add(subscribers.ConfirmTTL + time.Hour).Truncate(time.Hour))
	if err := s.sched.Tick(ctx, s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	rows, total, err := s.subs.Search(ctx, subscribers.SearchQuery{})
	if err != nil || total != 1 || rows[0].Email != "ok@example.jp" {
		t.Fatalf("after housekeeping: %+v, %d, %v", rows, total, err)
	}
	all, err := s.sched.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var hk scheduler.Status
	for _, st := range all {
		if st.Kind == JobHousekeeping {
			hk = st
		}
	}
	if hk.Name != "housekeeping" || hk.Spec != "@hourly" || hk.Last == nil || hk.Last.Result != scheduler.ResultOK {
		t.Fatalf("housekeeping schedule %+v, last fire %+v", hk.Schedule, hk.Last)
	}
	if err := s.sched.Pause(ctx, hk.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.Register(ctx, s.sched); err != nil {
		t.Fatal(err)
	}
	if st, err := s.sched.ByID(ctx, hk.ID); err != nil || st.State() != scheduler.StatePaused {
		t.Errorf("declared again: %v, %v; want paused", st.State(), err)
	}
}

// TestRegisterProgress: the plan's jobs fire on their schedules (the
// reminders every morning at 09:00 in Tokyo, the digest on Mondays), a
// fire later than the job's MaxLateness is skipped, and declaring again
// at the next start keeps an operator's pause.
func TestRegisterProgress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t)
	ps := progress.New(s.db, progress.Options{Now: s.clock.Now, Location: s.tokyo, Sender: s.system})
	var (
		mu  sync.Mutex // the jobs of one tick run at once
		ran []string
	)
	jobs := ps.Jobs()
	for i := range jobs {
		run, kind := jobs[i].Run, jobs[i].Kind
		jobs[i].Run = func(ctx context.Context) error {
			mu.Lock()
			ran = append(ran, kind)
			mu.Unlock()
			return run(ctx)
		}
	}
	if err := RegisterProgress(ctx, s.sched, jobs); err != nil {
		t.Fatal(err)
	}
	// tick runs the scheduler at 09:00 in Tokyo plus late on day (of
	// December 2026) and returns the kinds that ran.
	tick := func(day int, late time.Duration) []string {
		t.Helper()
		now := time.Date(2026, 12, day, 9, 0, 0, 0, s.tokyo).Add(late)
		s.clock.Set(now)
		if err := s.sched.Tick(ctx, now); err != nil {
			t.Fatal(err)
		}
		got := ran
		ran = nil
		return got
	}
	if got := tick(5, 0); !slices.Equal(got, []string{progress.JobReminders}) {
		t.Errorf("Saturday: %v ran", got)
	}
	if got := tick(7, 0); !slices.Equal(slices.Sorted(slices.Values(got)), []string{progress.JobDigest, progress.JobReminders}) {
		t.Errorf("Monday: %v ran", got)
	}
	all, err := s.sched.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range all {
		if st.Kind == progress.JobDigest {
			if st.Name != "weekly digest" || st.Spec != "0 9 * * 1" || st.Last == nil || st.Last.Result != scheduler.ResultOK {
				t.Errorf("digest schedule %+v, last fire %+v", st.Schedule, st.Last)
			}
			if err := s.sched.Pause(ctx, st.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := RegisterProgress(ctx, s.sched, jobs); err != nil {
		t.Fatal(err)
	}
	if got := tick(14, 0); !slices.Equal(got, []string{progress.JobReminders}) {
		t.Errorf("Monday with the digest paused: %v ran", got)
	}
	if got := tick(15, 21*time.Hour); len(got) != 0 {
		t.Errorf("21 hours late: %v ran, want the fire skipped", got)
	}
}
