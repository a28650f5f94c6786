package scheduler_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"kawaraban/scheduler"
	"kawaraban/store"
)

// cmd registers job kinds, declares its system schedules at every start and
// runs the scheduler; here Tick stands in for Run with a fixed clock.
func Example() {
	dir, _ := os.MkdirTemp("", "sched")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "k.db"), store.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()

	jst, _ := time.LoadLocation("Asia/Tokyo")
	now := time.Date(2027, 4, 1, 8, 0, 0, 0, jst)
	s, _ := scheduler.New(db, scheduler.Options{Now: func() time.Time { return now }})
	s.Register("reminders", func(_ context.Context, f scheduler.Fire) error {
		fmt.Println("reminders for", f.At.Format("2006-01-02 15:04 MST"))
		return nil
	}, scheduler.KindDefaults{Policy: scheduler.RunOnce, MaxLateness: 12 * time.Hour})
	s.Register("send-issue", func(_ context.Context, f scheduler.Fire) error {
		fmt.Println("send issue", f.Target, "resumed:", f.Resumed)
		return nil
	}, scheduler.KindDefaults{})

	if _, err := s.Upsert(ctx, scheduler.Schedule{Kind: "reminders", Name: "daily", Spec: "0 9 * * *"}); err != nil {
		fmt.Println(err)
	}
	if _, err := s.AddOnce(ctx, "send-issue", "42", now.Add(-time.Hour)); err != nil { // send_at in the past
		fmt.Println(err)
	}
	_, err = s.Upsert(ctx, scheduler.Schedule{Kind: "reminders", Name: "bad", Spec: "0 25 * * *"})
	fmt.Println(err)

	_ = s.Tick(ctx, now) // the past one-off fires now
	now = now.Add(time.Hour)
	_ = s.Tick(ctx, now)
	_ = s.Tick(ctx, now) // nothing fires twice
	// Output:
	// schedule reminders/bad: invalid schedule spec "0 25 * * *": end of range (25) above maximum (23): 25
	// send issue 42 resumed: false
	// reminders for 2027-04-01 09:00 JST
}
