package mailer

import (
	"context"
	"testing"
)

// TestIssue19FinishedCountsFollowChanges checks that a finished issue's
// kept counts (delivery_counts) agree with counting the deliveries through
// a late bounce, a retry and the second finish.
func TestIssue19FinishedCountsFollowChanges(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	m := newMailer(t, db, Options{})
	ctx := context.Background()
	m.Snapshot(ctx, 4, 1, genSource{5})
	ds, _ := m.claim(ctx, 5)
	var rs []result
	for i, d := range ds {
		st := StatusSent
		if i >= 3 {
			st = StatusFailed
		}
		rs = append(rs, result{d: d, status: st, attempted: true, e: &Error{Code: 550, Text: "no"}})
	}
	if err := m.commit(ctx, rs); err != nil {
		t.Fatal(err)
	}
	m.checkDone(ctx, rs)
	check := func(step string, kept bool) {
		t.Helper()
		var n int
		db.QueryRow(`SELECT count(*) FROM delivery_counts WHERE issue_id = 4`).Scan(&n)
		if (n > 0) != kept {
			t.Fatalf("after %s: %d kept counts, want kept=%v", step, n, kept)
		}
		p, err := m.Progress(ctx, 4)
		want := statuses(t, db, 4)
		if err != nil || p.Sent != want[StatusSent] || p.Failed != want[StatusFailed] || p.Bounced != want[StatusBounced] || p.Queued != want[StatusQueued] {
			t.Fatalf("after %s: Progress = %+v, %v; counting gives %v", step, p, err, want)
		}
	}
	check("finishing", true)
	if err := m.MarkBounced(ctx, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := m.MarkBounced(ctx, ds[3].ID); err != nil {
		t.Fatal(err)
	}
	check("late bounces", true)
	if n, err := m.RetryFailed(ctx, 4); err != nil || n != 1 {
		t.Fatalf("RetryFailed = %d, %v", n, err)
	}
	check("retrying", false)
}
