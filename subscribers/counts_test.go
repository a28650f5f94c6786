package subscribers

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// scannedStats counts a list the slow way, by reading every subscription:
// the maintained counts must always agree with it (issue 19).
func scannedStats(t *testing.T, f fixture, listID int64) ListStats {
	t.Helper()
	rows, err := f.s.db.QueryContext(f.ctx, `
SELECT p.status, EXISTS (SELECT 1 FROM suppressions x WHERE x.email = s.email COLLATE NOCASE AND x.list_id IN (0, p.list_id))
FROM subscriptions p JOIN subscribers s ON s.id = p.subscriber_id WHERE p.list_id = ?`, listID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var st ListStats
	for rows.Next() {
		var status string
		var suppressed bool
		if err := rows.Scan(&status, &suppressed); err != nil {
			t.Fatal(err)
		}
		reason := ""
		if suppressed {
			reason = "yes"
		}
		switch exportStatus(status, reason) {
		case StatusConfirmed:
			st.Confirmed++
		case StatusUnconfirmed:
			st.Unconfirmed++
		case StatusUnsubscribed:
			st.Unsubscribed++
		case StatusSuppressed:
			st.Suppressed++
		}
	}
	return st
}

func TestIssue19CountsFollowEveryChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.list(t, "kodomo")
	check := func(step string) {
		t.Helper()
		got, err := f.s.Stats(f.ctx, l.ID)
		if want := scannedStats(t, f, l.ID); err != nil || got != want {
			t.Fatalf("after %s: Stats = %+v, %v; counting gives %+v", step, got, err, want)
		}
	}
	for i := range 6 {
		f.subscribeConfirmed(t, fmt.Sprintf("c%d@example.jp", i), "kodomo")
	}
	f.subscribe(t, "late@example.jp", "kodomo")
	f.subscribe(t, "Pending@Example.jp", "kodomo")
	check("subscribing")
	if err := f.s.UnsubscribeAddress(f.ctx, "c0@example.jp", "kodomo", SourceWeb, Evidence{}); err != nil {
		t.Fatal(err)
	}
	check("unsubscribing")
	f.subscribeConfirmed(t, "c0@example.jp", "kodomo")
	check("subscribing again")
	for _, e := range []string{"c1@example.jp", "C2@EXAMPLE.JP", "pending@example.jp"} {
		if err := f.s.Suppress(f.ctx, e, ReasonHardBounce, ""); err != nil {
			t.Fatal(err)
		}
	}
	check("suppressing")
	f.clk.Add(ConfirmTTL + time.Hour)
	if _, err := f.s.ExpireUnconfirmed(f.ctx); err != nil {
		t.Fatal(err)
	}
	check("expiring")
}

func TestIssue19SearchFiltersAndKeyset(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var ids []int64
	for i := range 7 {
		ids = append(ids, f.subscribeConfirmed(t, fmt.Sprintf("user%d@example.jp", i), "kodomo"))
	}
	f.subscribe(t, "waiting@example.jp", "kodomo")
	if err := f.s.UnsubscribeAddress(f.ctx, "user1@example.jp", "kodomo", SourceWeb, Evidence{}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Suppress(f.ctx, "user2@example.jp", ReasonManual, ""); err != nil {
		t.Fatal(err)
	}
	emails := func(rows []SubscriberRow) string {
		s := ""
		for _, r := range rows {
			s += r.Email[:len(r.Email)-len("@example.jp")] + " "
		}
		return s
	}
	tests := []struct {
		name string
		q    SearchQuery
		want string
	}{
		{"all, newest first", SearchQuery{ListSlug: "kodomo"}, "waiting user6 user5 user4 user3 user2 user1 user0 "},
		{"keyset after user4", SearchQuery{ListSlug: "kodomo", After: ids[4], PerPage: 2}, "user3 user2 "},
		{"keyset before user2", SearchQuery{ListSlug: "kodomo", Before: ids[2], PerPage: 2}, "user4 user3 "},
		{"keyset before the newest", SearchQuery{ListSlug: "kodomo", Before: ids[6] + 100}, ""},
		{"offset page 2", SearchQuery{ListSlug: "kodomo", Page: 2, PerPage: 3}, "user4 user3 user2 "},
		{"offset last page", SearchQuery{ListSlug: "kodomo", Page: 3, PerPage: 3}, "user1 user0 "},
		{"offset with a status", SearchQuery{ListSlug: "kodomo", Status: StatusConfirmed, Page: 2, PerPage: 3}, "user3 user0 "},
		{"confirmed leaves out the suppressed", SearchQuery{ListSlug: "kodomo", Status: StatusConfirmed}, "user6 user5 user4 user3 user0 "},
		{"unconfirmed", SearchQuery{ListSlug: "kodomo", Status: StatusUnconfirmed}, "waiting "},
		{"unsubscribed", SearchQuery{ListSlug: "kodomo", Status: StatusUnsubscribed}, "user1 "},
		{"suppressed", SearchQuery{ListSlug: "kodomo", Status: StatusSuppressed}, "user2 "},
		{"address prefix, any case", SearchQuery{ListSlug: "kodomo", Text: "USER5"}, "user5 "},
		{"prefix with keyset", SearchQuery{ListSlug: "kodomo", Text: "user", After: ids[2]}, "user1 user0 "},
		{"no list", SearchQuery{Text: "wait"}, "waiting "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, _, err := f.s.Search(f.ctx, tt.q)
			if err != nil || emails(rows) != tt.want {
				t.Fatalf("Search(%+v) = %q, %v; want %q", tt.q, emails(rows), err, tt.want)
			}
		})
	}
	for _, q := range []SearchQuery{{ListSlug: "kodomo", Status: "gone"}, {Status: StatusConfirmed}} {
		if _, _, err := f.s.Search(f.ctx, q); !errors.Is(err, ErrBadStatus) {
			t.Errorf("Search(%+v) = %v, want ErrBadStatus", q, err)
		}
	}
}
