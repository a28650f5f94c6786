package progress

import (
	"context"
	"strings"
	"testing"
)

// TestNextOccurrenceAgreesWithLatest: the next occurrence found looking
// forward is the one the job finds looking back on that day.
func TestNextOccurrenceAgreesWithLatest(t *testing.T) {
	t.Parallel()
	d, _ := ParseDate("2027-04-30")
	r := Rules{BeforeDays: []int{30, 14, 7, 1, 0}, OverdueEveryDays: 3, EscalateAfterDays: 7, Coordinator: "c@example.jp"}
	for days := -40; days <= 30; days++ {
		from := d.AddDays(days)
		occ, ok := r.nextReminder(d, from)
		if !ok || occ.date.Before(from) {
			t.Fatalf("from %s: %v %v", from, occ, ok)
		}
		if back, _ := r.latestReminder(d, occ.date); back != occ {
			t.Errorf("from %s: next %v, but the job on that day finds %v", from, occ, back)
		}
		if e, ok := r.nextEscalation(d, from); ok {
			if back, _ := r.latestEscalation(d, e.date); back != e || e.date.Before(from) {
				t.Errorf("from %s: next escalation %v, the job finds %v", from, e, back)
			}
		}
	}
	none := Rules{BeforeDays: []int{7}}
	if _, ok := none.nextReminder(d, d.AddDays(1)); ok {
		t.Error("without overdue_every_days there is no reminder after the due date")
	}
}

// TestNextReminders: the progress page and the CLI say when the next
// reminder goes out and to whom; a run that sent it moves it on.
func TestNextReminders(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.importFile(t, "testdata/plan-14-7-1.yaml")
	next := func(days int) NextReminder {
		t.Helper()
		ns, err := f.s.NextReminders(context.Background(), at(days))
		if err != nil || len(ns) != 1 {
			t.Fatalf("NextReminders at %d: %v %v", days, ns, err)
		}
		return ns[0]
	}
	if n := next(-20); n.Date.String() != "2027-04-16" || n.Label != "before-14" || len(n.Bureaus) == 0 {
		t.Errorf("20 days before: %+v, want before-14 on 2027-04-16", n)
	}
	f.run(t, at(-14))
	if n := next(-14); n.Date.String() != "2027-04-23" || n.Label != "before-7" {
		t.Errorf("after the 14-day reminder was sent: %+v, want before-7 on 2027-04-23", n)
	}
	if n := next(2); !strings.HasPrefix(n.Label, "overdue-") && n.Label != "due" {
		t.Errorf("2 days late: %+v", n)
	}
}
