package mailer

import (
	"context"
	"testing"
	"time"

	"kawaraban/store"
)

// Issue 16 acceptance: the disk fills while an issue and confirmations
// are being sent (injected: every write of a result fails with SQLite's
// "database or disk is full"), then space returns. The store's Health
// shows the full disk while it lasts, sending resumes by itself, and
// every recipient gets exactly one copy.
func TestIssue16DiskFullThenFreed(t *testing.T) {
	t.Parallel()
	e := newEngine(t, nil, func(o *Options) { o.BatchSize, o.InFlight = 2, 4 })
	health, err := store.NewHealth(e.db, store.HealthOptions{ProbeEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.opt.Health = health
	e.pauseLo, e.pauseHi = 20*time.Millisecond, 100*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go health.Run(ctx)

	issue := []string{"a@example.jp", "b@example.jp", "c@example.jp", "d@example.jp", "e@example.jp", "f@example.jp"}
	if _, err := e.Snapshot(ctx, 1, 1, listSource(issue)); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE full (on_ INTEGER NOT NULL)`,
		`INSERT INTO full VALUES (1)`,
		`CREATE TRIGGER full_sent BEFORE UPDATE OF status ON deliveries WHEN (SELECT on_ FROM full)
			BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`,
		`CREATE TRIGGER full_queue BEFORE DELETE ON mail_queue WHEN (SELECT on_ FROM full)
			BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`,
		`CREATE TRIGGER full_probe BEFORE UPDATE ON store_probe WHEN (SELECT on_ FROM full)
			BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`,
		`CREATE TRIGGER full_probe_insert BEFORE INSERT ON store_probe WHEN (SELECT on_ FROM full)
			BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`,
	} {
		if _, err := e.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	confirms := []string{"x@example.jp", "y@example.jp"}
	for _, r := range confirms {
		if err := e.Enqueue(ctx, "confirmation", confirmation(r)); err != nil {
			t.Fatal(err)
		}
	}
	ran := make(chan error, 1)
	go func() { ran <- e.Run(ctx) }()
	runQueue(t, e.Mailer)

	deadline := time.Now().Add(10 * time.Second)
	for health.Status().Problem != store.ProblemDiskFull && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := health.Status(); st.Problem != store.ProblemDiskFull {
		t.Fatalf("health %+v while every result write fails, want disk-full", st)
	}
	time.Sleep(500 * time.Millisecond) // the disk stays full a while
	sent := 0
	for _, a := range append(issue, confirms...) {
		sent += e.sink.count(a)
	}
	if sent > 4+1 {
		t.Errorf("%d messages went out while nothing could be recorded, want at most the in-flight window (4) and one queued mail", sent)
	}

	if _, err := e.db.Exec(`UPDATE full SET on_ = 0`); err != nil { // space returns
		t.Fatal(err)
	}
	select {
	case <-e.done:
	case err := <-ran:
		t.Fatalf("Run ended early: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("issue not sent 20 s after space returned")
	}
	if !waitQueue(t, e.Mailer) {
		t.Fatal("queued confirmations not sent 10 s after space returned")
	}
	for _, a := range append(issue, confirms...) {
		if n := e.sink.count(a); n != 1 {
			t.Errorf("%s got %d copies, want exactly 1", a, n)
		}
	}
	if st := health.Status(); !st.OK {
		t.Errorf("health %+v after space returned, want ok", st)
	}
	cancel()
	if err := <-ran; err != nil {
		t.Errorf("Run: %v", err)
	}
}
