package mailer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"
)

// genSource yields n recipients; every 10th at docomo with a legacy local
// part, the rest spread over a few domains.
type genSource struct{ n int }

func (g genSource) EachRecipient(ctx context.Context, tx *sql.Tx, listID int64, fn func(Recipient) error) error {
	for i := 1; i <= g.n; i++ {
		r := Recipient{SubscriberID: int64(i), Name: fmt.Sprintf("読者 %d", i)}
		switch i % 10 {
		case 0:
			r.Email = fmt.Sprintf("user..%d.@docomo.ne.jp", i)
		default:
			r.Email = fmt.Sprintf("r%d@d%d.example.jp", i, i%7)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func statuses(t testing.TB, db *sql.DB, issue int64) map[string]int {
	t.Helper()
	rows, err := db.Query(`SELECT status, count(*) FROM deliveries WHERE issue_id = ? GROUP BY status`, issue)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		rows.Scan(&s, &n)
		out[s] = n
	}
	return out
}

func TestSnapshotOnceAndFast(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	m := newMailer(t, db, Options{})
	ctx := context.Background()
	start := time.Now()
	n, err := m.Snapshot(ctx, 1, 10, genSource{100_000})
	took := time.Since(start)
	if err != nil || n != 100_000 {
		t.Fatalf("Snapshot = %d, %v", n, err)
	}
	t.Logf("snapshot of 100,000 took %v", took)
	if n, err := m.Snapshot(ctx, 1, 10, genSource{100_000}); err != nil || n != 0 {
		t.Errorf("second Snapshot = %d, %v; want 0, nil", n, err)
	}
	if got := statuses(t, db, 1); got[StatusQueued] != 100_000 {
		t.Errorf("statuses = %v", got)
	}
	p, err := m.Progress(ctx, 1)
	if err != nil || p.Queued != 100_000 {
		t.Errorf("Progress = %+v, %v", p, err)
	}
}

type failingSource struct{}

func (failingSource) EachRecipient(ctx context.Context, tx *sql.Tx, listID int64, fn func(Recipient) error) error {
	if err := fn(Recipient{SubscriberID: 1, Email: "a@b.jp"}); err != nil {
		return err
	}
	return errors.New("list vanished")
}

func TestSnapshotIsOneTransaction(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	m := newMailer(t, db, Options{})
	if _, err := m.Snapshot(context.Background(), 2, 1, failingSource{}); err == nil {
		t.Fatal("failing source did not fail the snapshot")
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM deliveries`).Scan(&n)
	var runs int
	db.QueryRow(`SELECT count(*) FROM mailer_runs`).Scan(&runs)
	if n != 0 || runs != 0 {
		t.Errorf("after a failed snapshot: %d deliveries, %d runs; want none", n, runs)
	}
	// and a later good snapshot of the same issue still works
	if n, err := m.Snapshot(context.Background(), 2, 1, genSource{5}); err != nil || n != 5 {
		t.Errorf("retry Snapshot = %d, %v", n, err)
	}
}

func TestPauseResumeCancelStates(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	m := newMailer(t, db, Options{})
	ctx := context.Background()
	if err := m.Pause(ctx, 9); !errors.Is(err, ErrUnknownIssue) {
		t.Errorf("Pause unknown = %v", err)
	}
	m.Snapshot(ctx, 3, 1, genSource{50})
	if err := m.Pause(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if ds, _ := m.claim(ctx, 10); len(ds) != 0 {
		t.Errorf("claimed %d of a paused issue", len(ds))
	}
	if err := m.Resume(ctx, 3); err != nil {
		t.Fatal(err)
	}
	ds, err := m.claim(ctx, 10)
	if err != nil || len(ds) != 10 {
		t.Fatalf("claim after resume = %d, %v", len(ds), err)
	}
	if err := m.Cancel(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if err := m.Resume(ctx, 3); err == nil {
		t.Error("resumed a cancelled issue")
	}
	got := statuses(t, db, 3)
	if got[StatusCancelled] != 40 || got[StatusSending] != 10 {
		t.Errorf("after cancel: %v", got)
	}
	// the claimed ones come back from workers as cancelled
	if r := m.deliver(ctx, ds[0]); r.status != StatusCancelled {
		t.Errorf("deliver after cancel → %s", r.status)
	}
}

func TestRetryFailedAndMarkBounced(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	m := newMailer(t, db, Options{})
	ctx := context.Background()
	m.Snapshot(ctx, 4, 1, genSource{3})
	ds, _ := m.claim(ctx, 3)
	if len(ds) != 3 {
		t.Fatalf("claimed %d", len(ds))
	}
	rs := []result{
		{d: ds[0], status: StatusSent, attempted: true, msgID: "a@x"},
		{d: ds[1], status: StatusFailed, attempted: true, e: &Error{Code: 550, Enhanced: "5.1.1", Text: "no such user", Stage: StageRcpt}},
		{d: ds[2], status: StatusFailed, attempted: true, e: &Error{Code: 554, Text: "rejected", Stage: StageData}},
	}
	if err := m.commit(ctx, rs); err != nil {
		t.Fatal(err)
	}
	var code int
	var enh, text string
	db.QueryRow(`SELECT last_code, last_enhanced, last_error FROM deliveries WHERE id = ?`, ds[1].ID).Scan(&code, &enh, &text)
	if code != 550 || enh != "5.1.1" || text == "" {
		t.Errorf("failure recorded as %d %q %q", code, enh, text)
	}
	if err := m.MarkBounced(ctx, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := m.MarkBounced(ctx, 99999); !errors.Is(err, ErrUnknownIssue) {
		t.Errorf("MarkBounced unknown = %v", err)
	}
	n, err := m.RetryFailed(ctx, 4)
	if err != nil || n != 2 {
		t.Fatalf("RetryFailed = %d, %v", n, err)
	}
	got := statuses(t, db, 4)
	if got[StatusQueued] != 2 || got[StatusBounced] != 1 {
		t.Errorf("after retry: %v", got)
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	t.Parallel()
	m := newMailer(t, nil, Options{RetryBase: time.Minute, RetryMax: time.Hour})
	for _, tc := range []struct {
		attempt int
		base    time.Duration
	}{{1, time.Minute}, {2, 2 * time.Minute}, {3, 4 * time.Minute}, {10, time.Hour}, {60, time.Hour}} {
		for range 20 {
			d := m.backoff(tc.attempt)
			if d < tc.base*8/10 || d > tc.base*12/10 {
				t.Errorf("backoff(%d) = %v, want %v ±20%%", tc.attempt, d, tc.base)
			}
		}
	}
}
