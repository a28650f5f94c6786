package subscribers

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// bulkFixture puts user0..user5 on kodomo (user5 the newest), user2 and
// user4 also on kankyo; user1 has left kodomo, user3 is suppressed.
func bulkFixture(t *testing.T) (fixture, []int64) {
	t.Helper()
	f := newFixture(t)
	var ids []int64
	for i := range 6 {
		lists := []string{"kodomo"}
		if i == 2 || i == 4 {
			lists = append(lists, "kankyo")
		}
		ids = append(ids, f.subscribeConfirmed(t, fmt.Sprintf("user%d@example.jp", i), lists...))
	}
	if err := f.s.UnsubscribeAddress(f.ctx, "user1@example.jp", "kodomo", SourceWeb, Evidence{}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Suppress(f.ctx, "user3@example.jp", ReasonHardBounce, ""); err != nil {
		t.Fatal(err)
	}
	return f, ids
}

func names(rows []SubscriberRow) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.TrimSuffix(r.Email, "@example.jp"))
		if r.ListSlug != "" {
			b.WriteString(":" + r.ListSlug + ":" + r.Status)
		}
		b.WriteString(" ")
	}
	return b.String()
}

func TestIssue17Bulk(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		sel     func(ids []int64) Selection
		action  string
		matched int
		changed int
		// after: the kodomo subscribers by status once done, and kankyo's.
		confirmed, kankyo string
	}{
		{"unsubscribe every confirmed", func([]int64) Selection { return Selection{ListSlug: "kodomo", Status: StatusConfirmed} },
			BulkUnsubscribe, 4, 4, "", "user4 user2 "},
		{"unsubscribe ticked ones", func(ids []int64) Selection {
			return Selection{ListSlug: "kodomo", IDs: []int64{ids[0], ids[1], ids[4]}}
		}, BulkUnsubscribe, 3, 2, "user5 user2 ", "user4 user2 "},
		{"unsubscribe a search", func([]int64) Selection { return Selection{ListSlug: "kodomo", Text: "user5"} },
			BulkUnsubscribe, 1, 1, "user4 user2 user0 ", "user4 user2 "},
		{"suppress on this list only", func(ids []int64) Selection {
			return Selection{ListSlug: "kodomo", IDs: []int64{ids[2], ids[3]}}
		}, BulkSuppress, 2, 1, "user5 user4 user0 ", "user4 user2 "},
		{"suppress a whole status", func([]int64) Selection { return Selection{ListSlug: "kodomo", Status: StatusConfirmed} },
			BulkSuppress, 4, 4, "", "user4 user2 "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, ids := bulkFixture(t)
			sel := tt.sel(ids)
			n, err := f.s.CountSelection(f.ctx, sel)
			if err != nil || n != tt.matched {
				t.Fatalf("CountSelection = %d, %v; want %d", n, err, tt.matched)
			}
			ev := Evidence{Actor: "editor1", IP: "192.0.2.9"}
			res, err := f.s.Bulk(f.ctx, sel, tt.action, ev, "citizen asked by phone")
			if err != nil || res.Matched != tt.matched || res.Changed != tt.changed || res.Batches != 1 {
				t.Fatalf("Bulk = %+v, %v; want matched %d changed %d in 1 batch", res, err, tt.matched, tt.changed)
			}
			rows, _, err := f.s.Search(f.ctx, SearchQuery{ListSlug: "kodomo", Status: StatusConfirmed})
			if err != nil || names(rows) != tt.confirmed {
				t.Errorf("confirmed on kodomo after: %q, %v; want %q", names(rows), err, tt.confirmed)
			}
			rows, _, err = f.s.Search(f.ctx, SearchQuery{ListSlug: "kankyo", Status: StatusConfirmed})
			if err != nil || names(rows) != tt.kankyo {
				t.Errorf("confirmed on kankyo after: %q, %v; want %q (other lists untouched)", names(rows), err, tt.kankyo)
			}
			if got, want := strings.Join(f.recipients(t, "kodomo"), " "), strings.ReplaceAll(strings.TrimSpace(tt.confirmed), "user", ""); len(strings.Fields(got)) != len(strings.Fields(want)) {
				t.Errorf("recipients of kodomo after: %q; want the confirmed ones %q", got, tt.confirmed)
			}
			if st, err := f.s.Stats(f.ctx, f.list(t, "kodomo").ID); err != nil || st != scannedStats(t, f, f.list(t, "kodomo").ID) {
				t.Errorf("kept counts %+v disagree with a scan (%v)", st, err)
			}
			again, err := f.s.Bulk(f.ctx, sel, tt.action, ev, "citizen asked by phone")
			if err != nil || again.Changed != 0 {
				t.Errorf("running it again = %+v, %v; want nothing changed", again, err)
			}
			if tt.action == BulkUnsubscribe {
				var n int
				f.db.QueryRowContext(f.ctx, `SELECT count(*) FROM consent_events WHERE event = 'opt-out' AND source = 'admin'
  AND actor = 'editor1' AND ip = '192.0.2.9' AND detail = 'bulk: citizen asked by phone'`).Scan(&n)
				if n != tt.changed {
					t.Errorf("%d opt-outs recorded with actor and reason, want %d", n, tt.changed)
				}
			}
		})
	}
}

func TestIssue17BulkRefuses(t *testing.T) {
	t.Parallel()
	f, _ := bulkFixture(t)
	sel := Selection{ListSlug: "kodomo"}
	for _, tc := range []struct {
		action, reason string
		want           error
	}{
		{BulkUnsubscribe, "  ", ErrReasonRequired},
		{"erase-all", "because", ErrBadAction},
	} {
		if _, err := f.s.Bulk(f.ctx, sel, tc.action, Evidence{}, tc.reason); !errors.Is(err, tc.want) {
			t.Errorf("Bulk(%q, %q) = %v, want %v", tc.action, tc.reason, err, tc.want)
		}
	}
	if _, err := f.s.Bulk(f.ctx, Selection{ListSlug: "nope"}, BulkSuppress, Evidence{}, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown list: %v", err)
	}
	if _, err := f.s.CountSelection(f.ctx, Selection{ListSlug: "kodomo", Status: "gone"}); !errors.Is(err, ErrBadStatus) {
		t.Errorf("bad status: %v", err)
	}
	if _, err := f.s.CountSelection(f.ctx, Selection{ListSlug: "kodomo", IDs: make([]int64, MaxSelectedIDs+1)}); !errors.Is(err, ErrTooManyIDs) {
		t.Errorf("too many ids: %v", err)
	}
}

// TestIssue17BulkBatches acts on more subscriptions than one batch holds,
// each batch its own transaction.
func TestIssue17BulkBatches(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.list(t, "quick")
	const n = 2*bulkFirst + 7
	tx, err := f.db.BeginTx(f.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		res, err := tx.ExecContext(f.ctx, `INSERT INTO subscribers (email, created) VALUES (?, 1)`, fmt.Sprintf("b%04d@example.jp", i))
		if err != nil {
			t.Fatal(err)
		}
		id, _ := res.LastInsertId()
		if _, err := tx.ExecContext(f.ctx, `INSERT INTO subscriptions (list_id, subscriber_id, status, source, requested_at, confirmed_at)
VALUES (?, ?, 'confirmed', 'import', 1, 1)`, l.ID, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	res, err := f.s.Bulk(f.ctx, Selection{ListSlug: "quick", Status: StatusConfirmed}, BulkUnsubscribe, Evidence{Actor: "admin"}, "list closed")
	if err != nil || res.Matched != n || res.Changed != n || res.Batches < 2 || res.LongestBatch <= 0 {
		t.Fatalf("Bulk = %+v, %v; want %d changed in at least 2 batches", res, err, n)
	}
	st, _ := f.s.Stats(f.ctx, l.ID)
	if st.Unsubscribed != n || st.Confirmed != 0 {
		t.Errorf("Stats after = %+v", st)
	}
	var buf bytes.Buffer
	if err := f.s.ExportSelection(f.ctx, &buf, Selection{ListSlug: "quick", Status: StatusUnsubscribed}, false); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(buf.String(), "\n"); lines != n+1 {
		t.Errorf("export has %d lines, want %d", lines, n+1)
	}
}

func TestIssue17ExportSelectionMatchesExport(t *testing.T) {
	t.Parallel()
	f, ids := bulkFixture(t)
	var whole, sel bytes.Buffer
	if err := f.s.ExportSubscribers(f.ctx, &whole, "kodomo", true); err != nil {
		t.Fatal(err)
	}
	if err := f.s.ExportSelection(f.ctx, &sel, Selection{ListSlug: "kodomo"}, true); err != nil {
		t.Fatal(err)
	}
	// The whole list in both, oldest first in one and newest first in
	// the other: the same lines.
	sortLines := func(s string) string {
		ls := strings.Split(strings.TrimSpace(s), "\n")
		head := ls[0]
		rest := ls[1:]
		for i, j := 0, len(rest)-1; i < j; i, j = i+1, j-1 {
			rest[i], rest[j] = rest[j], rest[i]
		}
		return head + "\n" + strings.Join(rest, "\n")
	}
	if sortLines(whole.String()) != strings.TrimSpace(sel.String()) {
		t.Errorf("selection export of the whole list:\n%s\nwant (reversed):\n%s", sel.String(), whole.String())
	}
	sel.Reset()
	if err := f.s.ExportSelection(f.ctx, &sel, Selection{ListSlug: "kodomo", Status: StatusSuppressed, IDs: ids[2:4]}, false); err != nil {
		t.Fatal(err)
	}
	if got := sel.String(); strings.Count(got, "\n") != 2 || !strings.Contains(got, "user3@example.jp,,suppressed,") {
		t.Errorf("export of a ticked suppressed one:\n%s", got)
	}
}

func TestIssue17SearchSeveralLists(t *testing.T) {
	t.Parallel()
	f, ids := bulkFixture(t)
	both := []string{"kodomo", "kankyo"}
	tests := []struct {
		name string
		q    SearchQuery
		want string
	}{
		{"every row of both", SearchQuery{ListSlugs: both},
			"user5:kodomo:confirmed user4:kankyo:confirmed user4:kodomo:confirmed user3:kodomo:suppressed user2:kankyo:confirmed user2:kodomo:confirmed user1:kodomo:unsubscribed user0:kodomo:confirmed "},
		{"a page keeps a subscriber's rows together", SearchQuery{ListSlugs: both, PerPage: 2},
			"user5:kodomo:confirmed user4:kankyo:confirmed user4:kodomo:confirmed "},
		{"after a key", SearchQuery{ListSlugs: both, PerPage: 2, After: ids[4]},
			"user3:kodomo:suppressed user2:kankyo:confirmed user2:kodomo:confirmed "},
		{"before a key", SearchQuery{ListSlugs: both, PerPage: 2, Before: ids[1]},
			"user2:kankyo:confirmed user2:kodomo:confirmed "},
		{"before a key, a subscriber's rows together", SearchQuery{ListSlugs: both, PerPage: 2, Before: ids[2]},
			"user4:kankyo:confirmed user4:kodomo:confirmed user3:kodomo:suppressed "},
		{"a status", SearchQuery{ListSlugs: both, Status: StatusUnsubscribed}, "user1:kodomo:unsubscribed "},
		{"a search", SearchQuery{ListSlugs: both, Text: "USER2"}, "user2:kankyo:confirmed user2:kodomo:confirmed "},
		{"a list twice counts once", SearchQuery{ListSlugs: []string{"kankyo", "kankyo"}}, "user4:kankyo:confirmed user2:kankyo:confirmed "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, _, err := f.s.Search(f.ctx, tt.q)
			if err != nil || names(rows) != tt.want {
				t.Fatalf("Search(%+v) =\n%q, %v; want\n%q", tt.q, names(rows), err, tt.want)
			}
		})
	}
	st, err := f.s.Counts(f.ctx, both)
	if want := (ListStats{Confirmed: 6, Unsubscribed: 1, Suppressed: 1}); err != nil || st != want {
		t.Errorf("Counts = %+v, %v; want %+v", st, err, want)
	}
	if _, _, err := f.s.Search(f.ctx, SearchQuery{ListSlugs: both, Page: 2}); !errors.Is(err, ErrDeepOffset) {
		t.Errorf("page 2 of several lists: %v, want ErrDeepOffset", err)
	}
	if _, _, err := f.s.Search(f.ctx, SearchQuery{ListSlug: "kodomo", Page: MaxOffset/50 + 2}); !errors.Is(err, ErrDeepOffset) {
		t.Errorf("page beyond MaxOffset: %v, want ErrDeepOffset", err)
	}
	if _, _, err := f.s.Search(f.ctx, SearchQuery{ListSlug: "kodomo", Page: MaxOffset / 50}); err != nil {
		t.Errorf("page at MaxOffset: %v", err)
	}
}

// TestIssue17BroadSearch: a prefix that matches more than broadMatches
// subscribers walks the list instead of the indexes; the answers are the
// same.
func TestIssue17BroadSearch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.list(t, "kodomo")
	tx, err := f.db.BeginTx(f.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range broadMatches + 100 {
		res, err := tx.ExecContext(f.ctx, `INSERT INTO subscribers (email, created) VALUES (?, 1)`, fmt.Sprintf("user%05d@example.jp", i))
		if err != nil {
			t.Fatal(err)
		}
		id, _ := res.LastInsertId()
		status := "confirmed"
		if i%7 == 0 {
			status = "unsubscribed"
		}
		if i%3 == 0 {
			continue // not on the list
		}
		if _, err := tx.ExecContext(f.ctx, `INSERT INTO subscriptions (list_id, subscriber_id, status, source, requested_at, confirmed_at)
VALUES (?, ?, ?, 'import', 1, 1)`, l.ID, id, status); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n, err := f.s.prefixMatches(f.ctx, "USER", broadMatches); err != nil || n != broadMatches {
		t.Fatalf("prefixMatches = %d, %v; want the cap %d", n, err, broadMatches)
	}
	// want lists the subscribers user%05d with i in [from, to) on the
	// list with status, newest first, at most n.
	want := func(from, to, n int, status string) string {
		var b strings.Builder
		for i := to - 1; i >= from && n > 0; i-- {
			st := "confirmed"
			if i%7 == 0 {
				st = "unsubscribed"
			}
			if i%3 == 0 || status != "" && st != status {
				continue
			}
			fmt.Fprintf(&b, "user%05d ", i)
			n--
		}
		return b.String()
	}
	first, _, err := f.s.Search(f.ctx, SearchQuery{ListSlug: "kodomo", Text: "user0", PerPage: 5})
	if err != nil || names(first) != want(0, 10000, 5, "") {
		t.Fatalf("broad search = %q, %v; want %q", names(first), err, want(0, 10000, 5, ""))
	}
	for _, tc := range []struct {
		name string
		q    SearchQuery
		want string
	}{
		{"broad, a status", SearchQuery{ListSlug: "kodomo", Text: "USER", Status: StatusUnsubscribed, PerPage: 4}, want(0, broadMatches+100, 4, "unsubscribed")},
		{"broad, after a key", SearchQuery{ListSlug: "kodomo", Text: "user0", After: first[4].SubscriberID, PerPage: 3}, want(0, 9992, 3, "")},
		{"narrow", SearchQuery{ListSlug: "kodomo", Text: "user0999", PerPage: 50}, want(9990, 10000, 50, "")},
	} {
		rows, _, err := f.s.Search(f.ctx, tc.q)
		if err != nil || names(rows) != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.name, names(rows), err, tc.want)
		}
	}
	if n, err := f.s.CountSelection(f.ctx, Selection{ListSlug: "kodomo", Text: "user", Status: StatusUnsubscribed}); err != nil || n != strings.Count(want(0, broadMatches+100, 1<<30, "unsubscribed"), " ") {
		t.Errorf("CountSelection of a broad search = %d, %v", n, err)
	}
}
