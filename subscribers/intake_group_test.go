package subscribers

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"kawaraban/store"
)

// waitGroupState yields until the intake's group writer is in the state
// ok says (read under its mutex).
func waitGroupState(t *testing.T, in *Intake, ok func(writing bool, queued int) bool) {
	t.Helper()
	for {
		in.group.mu.Lock()
		done := ok(in.group.writing, len(in.group.queue))
		in.group.mu.Unlock()
		if done {
			return
		}
		runtime.Gosched()
	}
}

// intakeEmails lists the addresses written in subscribe_intake, sorted.
func (f fixture) intakeEmails(t *testing.T) []string {
	t.Helper()
	rs, err := f.db.QueryContext(f.ctx, `SELECT email FROM subscribe_intake ORDER BY email`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var e string
		if err := rs.Scan(&e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// submitAsync submits addr in the background; its answer comes on the
// returned channel.
func submitAsync(ctx context.Context, in *Intake, addr string) <-chan error {
	c := make(chan error, 1)
	go func() { c <- in.Submit(ctx, SubscribeRequest{Email: addr, Lists: []string{"kodomo"}}) }()
	return c
}

// TestIntakeGroupCommit: Submits that arrive while a write is in
// progress are written together, and none is answered before the
// statement holding its row has committed.
func TestIntakeGroupCommit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	in := f.s.NewIntake(nil)
	in.write.Lock() // Run's transaction, as far as the writer knows
	first := submitAsync(f.ctx, in, "first@example.jp")
	waitGroupState(t, in, func(w bool, q int) bool { return w && q == 0 })
	const n = 40
	var answers []<-chan error
	for i := range n {
		answers = append(answers, submitAsync(f.ctx, in, fmt.Sprintf("g%02d@example.jp", i)))
	}
	waitGroupState(t, in, func(_ bool, q int) bool { return q == n })
	for _, c := range append(answers, first) {
		select {
		case err := <-c:
			t.Fatalf("a Submit was answered (%v) before its row was written", err)
		default:
		}
	}
	if got := f.intakeRows(t); got != 0 {
		t.Fatalf("%d rows before the write, want 0", got)
	}
	in.write.Unlock()
	for _, c := range append(answers, first) {
		if err := <-c; err != nil {
			t.Fatal(err)
		}
	}
	if got := f.intakeRows(t); got != n+1 {
		t.Errorf("%d rows, want %d", got, n+1)
	}
	waitGroupState(t, in, func(w bool, q int) bool { return !w && q == 0 })
}

// TestIntakeGroupFailsAlike: when a group's statement fails, every
// Submit in it gets the same error, and none of its rows is written.
func TestIntakeGroupFailsAlike(t *testing.T) {
	t.Parallel()
	f, in, _ := fullDiskIntake(t)
	in.write.Lock()
	first := submitAsync(f.ctx, in, "first@example.jp")
	waitGroupState(t, in, func(w bool, q int) bool { return w && q == 0 })
	addrs := []string{"new@example.jp", "known@example.jp", "other@example.jp"}
	var answers []<-chan error
	for _, a := range addrs {
		answers = append(answers, submitAsync(f.ctx, in, a))
	}
	waitGroupState(t, in, func(_ bool, q int) bool { return q == len(addrs) })
	in.write.Unlock()
	if err := <-first; !errors.Is(err, store.ErrUnhealthy) {
		t.Fatalf("first Submit on a full disk: %v, want store.ErrUnhealthy", err)
	}
	var errs []error
	for _, c := range answers {
		errs = append(errs, <-c)
	}
	refusedAlike(t, addrs, errs)
	if n := f.intakeRows(t); n != 0 {
		t.Errorf("%d requests written", n)
	}
}

// TestIntakeGroupCancelledWaiter: a Submit whose context ends while it
// is queued is withdrawn and answered with the context's error; the
// writer whose context ends still writes its group, and the others are
// neither lost nor disturbed.
func TestIntakeGroupCancelledWaiter(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	in := f.s.NewIntake(nil)
	in.write.Lock()
	leaderCtx, cancelLeader := context.WithCancel(f.ctx)
	leader := submitAsync(leaderCtx, in, "leader@example.jp")
	waitGroupState(t, in, func(w bool, q int) bool { return w && q == 0 })
	queuedCtx, cancelQueued := context.WithCancel(f.ctx)
	queued := submitAsync(queuedCtx, in, "cancelled@example.jp")
	waitGroupState(t, in, func(_ bool, q int) bool { return q == 1 })
	other := submitAsync(f.ctx, in, "other@example.jp")
	waitGroupState(t, in, func(_ bool, q int) bool { return q == 2 })

	cancelQueued()
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Submit: %v, want context.Canceled", err)
	}
	cancelLeader()
	in.write.Unlock()
	if err := <-leader; err != nil {
		t.Errorf("the writer whose context ended: %v, want nil (its row was written)", err)
	}
	if err := <-other; err != nil {
		t.Errorf("the other Submit: %v", err)
	}
	if got, want := f.intakeEmails(t), []string{"leader@example.jp", "other@example.jp"}; !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
}

// TestIntakeGroupAnswersMatchRows: many concurrent Submits, a third of
// them cancelled at random moments: exactly the Submits answered nil
// have their row written, once each.
func TestIntakeGroupAnswersMatchRows(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	in := f.s.NewIntake(nil)
	const n = 300
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok []string
	)
	for i := range n {
		wg.Go(func() {
			ctx := f.ctx
			if i%3 == 0 {
				c, cancel := context.WithCancel(f.ctx)
				ctx = c
				go func() {
					for range rand.IntN(50) {
						runtime.Gosched()
					}
					cancel()
				}()
			}
			addr := fmt.Sprintf("a%03d@example.jp", i)
			err := in.Submit(ctx, SubscribeRequest{Email: addr, Lists: []string{"kodomo"}})
			switch {
			case err == nil:
				mu.Lock()
				ok = append(ok, addr)
				mu.Unlock()
			case !errors.Is(err, context.Canceled):
				t.Errorf("Submit(%s): %v", addr, err)
			}
		})
	}
	wg.Wait()
	slices.Sort(ok)
	if got := f.intakeEmails(t); !slices.Equal(got, ok) {
		t.Errorf("%d rows written, %d Submits answered nil; they differ", len(got), len(ok))
	}
	waitGroupState(t, in, func(w bool, q int) bool { return !w && q == 0 })
}

// TestIntakeGroupGoesBeforeRun: a group waiting for the intake's mutex
// is written before Run's next transaction takes it, so a request waits
// for at most the transaction in progress.
func TestIntakeGroupGoesBeforeRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	in := f.s.NewIntake(nil)
	run := runLock{in}
	run.Lock() // Run's transaction in progress
	answer := submitAsync(f.ctx, in, "waiting@example.jp")
	for in.group.waiting.Load() == 0 {
		runtime.Gosched()
	}
	next := make(chan int, 1) // rows written when Run's next transaction began
	go func() {
		run.Lock()
		var n int
		if err := f.db.QueryRowContext(f.ctx, `SELECT count(*) FROM subscribe_intake`).Scan(&n); err != nil {
			n = -1
		}
		run.Unlock()
		next <- n
	}()
	run.Unlock()
	if err := <-answer; err != nil {
		t.Fatal(err)
	}
	if n := <-next; n != 1 {
		t.Errorf("Run's next transaction began with %d rows written, want 1 (the waiting group first)", n)
	}
}

// TestInsertIntakeRowsSQL: the statement for n rows has n rows of
// intakeColumns parameters.
func TestInsertIntakeRowsSQL(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, intakeGroupMax} {
		q := insertIntakeRowsSQL(n)
		if got := strings.Count(q, "?"); got != n*intakeColumns {
			t.Errorf("%d rows: %d parameters, want %d", n, got, n*intakeColumns)
		}
	}
}
