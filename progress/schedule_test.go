package progress

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestJobs: the jobs keep the kinds, names and specs existing databases
// hold; each runs as of the store's clock: the reminders due that
// morning, the digest to the coordinator.
func TestJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newPlanFixture(t)
	jobs := f.s.Jobs()
	type decl struct {
		kind, name, spec string
		late             time.Duration
	}
	var got []decl
	for _, j := range jobs {
		got = append(got, decl{j.Kind, j.Name, j.Spec, j.MaxLateness})
	}
	want := []decl{{"reminders", "daily reminders", "0 9 * * *", 20 * time.Hour}, {"digest", "weekly digest", "0 9 * * 1", 72 * time.Hour}}
	if !slices.Equal(got, want) {
		t.Fatalf("jobs:\n%v\nwant:\n%v", got, want)
	}
	f.clk.Set(at(-7))
	if err := jobs[0].Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := recipients(f.rec.take()); !slices.Equal(got, []string{"kikaku@city.example.jp", "somu@city.example.jp"}) {
		t.Errorf("7 days before: reminders to %v", got)
	}
	f.clk.Set(at(-4)) // Monday 2027-04-26
	if err := jobs[1].Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := recipients(f.rec.take()); !slices.Equal(got, []string{"coordinator@city.example.jp"}) {
		t.Errorf("digest to %v", got)
	}
}
