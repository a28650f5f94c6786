package newsletter

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"kawaraban/issues"
	"kawaraban/subscribers"
	"kawaraban/templates"
	"kawaraban/token"
)

func (s *stack) statistics(t *testing.T) *Statistics {
	tpl, err := templates.New(templates.Options{})
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := token.NewSigner([]byte(strings.Repeat("k", 32)))
	return NewStatistics(s.db, s.issues, s.subs, s.mail, tpl, StatisticsOptions{
		BaseURL: "https://mail.city.example.jp", Signer: signer, Now: s.clock.Now})
}

// TestIssue17OptOutsCountOnceUnderTheLastIssue: two issues three days
// apart and opt-outs before, between, after and long after them, over
// real SQLite, the real outbox and a real SMTP server. Every opt-out
// counts under the last issue its reader got, within 7 days of that
// delivery, and never under two issues.
func TestIssue17OptOutsCountOnceUnderTheLastIssue(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	const slug = "kankyo-hozen"
	s.readers(t, slug, 9)
	reader := func(i int) string { return fmt.Sprintf("%s-reader%d@example.jp", slug, i) }
	t0 := s.clock.Now().Add(time.Hour)
	cases := []struct {
		name   string
		reader int
		at     time.Duration // after the first issue's delivery
		want   string        // "A", "B" or "" (no issue)
	}{
		{"before any issue", 5, -30 * time.Minute, ""},
		{"an hour after A", 0, time.Hour, "A"},
		{"two days after A", 1, 2 * 24 * time.Hour, "A"},
		{"after B, within 7 days of A too: B only", 2, 4 * 24 * time.Hour, "B"},
		{"after B bounced: A was the last one received", 7, 5 * 24 * time.Hour, "A"},
		{"a minute within 7 days of B", 3, 10*24*time.Hour - time.Minute, "B"},
		{"8 days after B", 4, 11 * 24 * time.Hour, ""},
		{"8 days after A, bounced B", 8, 8*24*time.Hour + time.Minute, ""},
	}
	// Events in time order: opt-outs, A at t0, B at t0+3d.
	type step struct {
		at time.Duration
		do func()
	}
	var a, b issues.Issue
	steps := []step{
		{0, func() { a = s.sendNow(t, s.draft(t, slug, "A号", "本文").ID); s.deliver(t, a.ID) }},
		{3 * 24 * time.Hour, func() {
			b = s.sendNow(t, s.draft(t, slug, "B号", "本文").ID)
			s.deliver(t, b.ID)
			for _, r := range []int{7, 8} {
				var id int64
				if err := s.db.QueryRow(`SELECT id FROM deliveries WHERE issue_id = ? AND email = ?`, b.ID, reader(r)).Scan(&id); err != nil {
					t.Fatal(err)
				}
				if err := s.mail.MarkBounced(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
		}},
	}
	for _, c := range cases {
		steps = append(steps, step{c.at, func() {
			if err := s.subs.UnsubscribeAddress(ctx, reader(c.reader), slug, subscribers.SourceWeb, subscribers.Evidence{}); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}})
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].at < steps[j].at })
	s.clock.Add(t0.Sub(s.clock.Now()) - 30*time.Minute - time.Minute)
	for _, st := range steps {
		s.clock.Add(t0.Add(st.at).Sub(s.clock.Now()))
		st.do()
	}
	s.clock.Add(20 * 24 * time.Hour)
	want := map[string]int{}
	for _, c := range cases {
		want[c.want]++
	}
	stats := s.statistics(t)
	got := map[int64]IssueStats{}
	for _, id := range []int64{a.ID, b.ID} {
		st, err := stats.Issue(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got[id] = st
	}
	if got[a.ID].Unsubscribed != want["A"] || got[b.ID].Unsubscribed != want["B"] {
		t.Errorf("unsubscribed: A %d, B %d; want A %d, B %d", got[a.ID].Unsubscribed, got[b.ID].Unsubscribed, want["A"], want["B"])
	}
	if !got[a.ID].Final || !got[b.ID].Final {
		t.Errorf("not final 20 days after: %+v %+v", got[a.ID], got[b.ID])
	}
	// A went to the 8 still on the list, B to the 6 left, 2 of them bounced.
	if got[a.ID].Delivered != 8 || got[a.ID].Bounced != 0 {
		t.Errorf("A: delivered %d bounced %d, want 8 and 0", got[a.ID].Delivered, got[a.ID].Bounced)
	}
	if got[b.ID].Delivered != 4 || got[b.ID].Bounced != 2 {
		t.Errorf("B: delivered %d bounced %d, want 4 and 2", got[b.ID].Delivered, got[b.ID].Bounced)
	}
	// The sum over issues never exceeds the opt-outs there were.
	if sum := got[a.ID].Unsubscribed + got[b.ID].Unsubscribed; sum > len(cases) {
		t.Errorf("%d opt-outs counted, only %d happened", sum, len(cases))
	}
}
