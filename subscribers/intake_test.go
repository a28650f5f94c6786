package subscribers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// perAddressTables are every table that says something about an address.
var perAddressTables = []string{"subscribers", "subscriptions", "suppressions", "consent_events", "confirmation_sends"}

// hideAddressTables renames (or restores) the tables that hold anything
// about an address, so that any query about one fails.
func hideAddressTables(t *testing.T, f fixture, hide bool) {
	t.Helper()
	for _, tbl := range perAddressTables {
		from, to := tbl, "hidden_"+tbl
		if !hide {
			from, to = to, from
		}
		if _, err := f.db.ExecContext(f.ctx, "ALTER TABLE "+from+" RENAME TO "+to); err != nil {
			t.Fatal(err)
		}
	}
}

// TestIssue15SubmitCostsTheSameForEveryAddress: the work /subscribe does
// before answering must not depend on who the address belongs to (timing
// told new from confirmed addresses). With every per-address table out of
// reach, Submit still accepts a new and a confirmed address alike, so it
// reads nothing about either; it still refuses bad input at once. Run then
// does the per-address work: a confirmation mail for the new address only.
func TestIssue15SubmitCostsTheSameForEveryAddress(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.subscribeConfirmed(t, "known@example.jp", "kodomo")
	f.s.Suppress(f.ctx, "blocked@example.jp", ReasonManual, "test")
	in := f.s.NewIntake(nil)
	hideAddressTables(t, f, true)
	for _, addr := range []string{"known@example.jp", "new@example.jp", "blocked@example.jp"} {
		if err := in.Submit(f.ctx, SubscribeRequest{Email: addr, Lists: []string{"kodomo"}, Evidence: Evidence{IP: "192.0.2.7"}}); err != nil {
			t.Fatalf("Submit(%s) with the per-address tables out of reach: %v", addr, err)
		}
	}
	var ae *AddressError
	if err := in.Submit(f.ctx, SubscribeRequest{Email: "a@b@c", Lists: []string{"kodomo"}}); !errors.As(err, &ae) {
		t.Errorf("bad address: %v", err)
	}
	if err := in.Submit(f.ctx, SubscribeRequest{Email: "x@example.jp", Lists: []string{"chonai"}}); !errors.Is(err, ErrUnknownList) {
		t.Errorf("internal list: %v", err)
	}
	hideAddressTables(t, f, false)

	sent := f.rec.count()
	ctx, cancel := context.WithCancel(f.ctx)
	cancel() // Run finishes what is queued, then returns
	if err := in.Run(ctx); err != nil {
		t.Fatal(err)
	}
	var to []string
	f.rec.mu.Lock()
	for _, c := range f.rec.sent[sent:] {
		to = append(to, c.To)
	}
	f.rec.mu.Unlock()
	if !slices.Equal(to, []string{"new@example.jp"}) {
		t.Errorf("confirmation mails to %v, want only new@example.jp", to)
	}
}

// BenchmarkSubscribeByStatus compares the synchronous cost of a
// subscription request for a new and an already confirmed address: Store.
// Subscribe (the work done before the answer until issue 15) and
// Intake.Submit (the work done now). Each sub-benchmark reports the median
// and the 90th percentile of single requests.
func BenchmarkSubscribeByStatus(b *testing.B) {
	for _, path := range []string{"Subscribe", "Submit"} {
		for _, kind := range []string{"new", "confirmed"} {
			b.Run(path+"/"+kind, func(b *testing.B) {
				f := newFixture(b)
				f.s.opt.MaxConfirmationsPerAddressPerDay = 1 << 30
				in := f.s.NewIntake(nil)
				ctx, cancel := context.WithCancel(f.ctx)
				defer cancel()
				go in.Run(ctx)
				addr := func(i int) string {
					if kind == "confirmed" {
						return fmt.Sprintf("known%d@example.jp", i%50)
					}
					return fmt.Sprintf("new%d@example.jp", i)
				}
				if kind == "confirmed" {
					for i := range 50 {
						f.subscribeConfirmed(b, addr(i), "kodomo")
					}
				}
				took := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					req := SubscribeRequest{Email: addr(i), Lists: []string{"kodomo"}}
					start := time.Now()
					var err error
					if path == "Submit" {
						err = in.Submit(f.ctx, req)
					} else {
						err = f.s.Subscribe(f.ctx, req)
					}
					took = append(took, time.Since(start))
					if err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				slices.Sort(took)
				b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(took[len(took)*9/10].Microseconds()), "p90-µs")
			})
		}
	}
}
