package bounces

import (
	"context"
	"testing"

	"kawaraban/bounces/classify"
)

// TestIssue19ComplaintsAgreeWithCounts checks that Complaints gives what
// CountsByIssue gives for complaints, with grouped hard reports, a
// complaint staff marked not a bounce and another issue's complaint beside.
func TestIssue19ComplaintsAgreeWithCounts(t *testing.T) {
	t.Parallel()
	s := newService(t, nil, newRecorder(), Options{})
	ctx := context.Background()
	rows := []struct {
		issue, delivery int64
		class           string
		notABounce      int
	}{
		{7, 1, "hard", 0}, {7, 1, "hard", 0}, {7, 2, "soft", 0},
		{7, 3, "complaint", 0}, {7, 3, "complaint", 0}, {7, 4, "complaint", 1}, {8, 5, "complaint", 0},
	}
	for i, r := range rows {
		_, err := s.db.ExecContext(ctx, `INSERT INTO bounces (received, dedupe_key, delivery_id, issue_id, class, not_a_bounce)
VALUES (1, ?, ?, ?, ?, ?)`, i, r.delivery, r.issue, r.class, r.notABounce)
		if err != nil {
			t.Fatal(err)
		}
	}
	counts, err := s.CountsByIssue(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Complaints(ctx, 7)
	if err != nil || n != counts[classify.Complaint] || n != 2 || counts[classify.Hard] != 1 {
		t.Errorf("Complaints = %d, %v; CountsByIssue = %v; want 2 complaints and 1 hard", n, err, counts)
	}
}
