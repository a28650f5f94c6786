package subscribers

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// intakeGroup writes concurrent Submits' rows together (group commit):
// one INSERT statement, so one commit and one turn of SQLite's write
// lock, holds every row queued while the previous statement ran. The
// first Submit to find no writer becomes the writer (the leader); when
// its statement has committed it answers every Submit whose row it held
// and hands the lead to the first Submit queued meanwhile. A Submit
// returns only once the statement holding its row has committed, so
// what was answered survives a crash as before. The writer reads
// nothing, so a row costs the same whoever its address belongs to.
type intakeGroup struct {
	mu      sync.Mutex
	queue   []*intakeWrite
	writing bool // a leader is writing; queue is empty whenever it is false
	// waiting counts leaders waiting for the intake's write mutex: Run
	// lets them go first (runLock).
	waiting atomic.Int32
}

// runLock is the intake's write mutex as Run takes it: a group waiting
// for it goes first, so a request waits for at most the transaction in
// progress, not for Run's next ones too.
type runLock struct{ in *Intake }

func (l runLock) Lock() {
	l.in.write.Lock()
	for l.in.group.waiting.Load() > 0 {
		l.in.write.Unlock()
		runtime.Gosched()
		l.in.write.Lock()
	}
}

func (l runLock) Unlock() { l.in.write.Unlock() }

// intakeWrite is one Submit's row waiting for its group's commit.
type intakeWrite struct {
	args []any
	// done receives the statement's outcome, or lead: this Submit is
	// queue[0] and writes the next group. It has room for one value so
	// the leader never waits for a waiter.
	done chan intakeOutcome
}

// intakeOutcome is what a waiting Submit is told.
type intakeOutcome struct {
	err  error
	lead bool
}

// intakeGroupMax is the most rows one statement writes: 10 parameters a
// row stay well under SQLite's limit of 32,766, and a group this size
// takes about a millisecond.
const intakeGroupMax = 256

// intakeColumns is the number of parameters of one row.
const intakeColumns = 10

// insertRows writes args (a row of intakeColumns values) with the rows
// of the Submits that arrive meanwhile, and returns once the statement
// holding it has committed: nil, or the error every row of that
// statement gets. When ctx ends before its row was taken into a
// statement, the row is withdrawn and ctx's error returned; once taken,
// the statement's outcome is the answer, and the statement runs to its
// end whatever happens to any one waiter's context.
func (in *Intake) insertRows(ctx context.Context, args []any) error {
	w := &intakeWrite{args: args, done: make(chan intakeOutcome, 1)}
	g := &in.group
	g.mu.Lock()
	g.queue = append(g.queue, w)
	lead := !g.writing
	g.writing = true
	g.mu.Unlock()
	if lead {
		return in.lead(ctx)
	}
	var out intakeOutcome
	select {
	case out = <-w.done:
	case <-ctx.Done():
		g.mu.Lock()
		select {
		case out = <-w.done:
			g.mu.Unlock()
		default:
			if i := indexOf(g.queue, w); i >= 0 {
				// Not taken yet, and not queue[0] of a handed-on lead
				// (that is sent under mu): withdraw it.
				g.queue = append(g.queue[:i], g.queue[i+1:]...)
				g.mu.Unlock()
				return fmt.Errorf("queueing a subscription: %w", ctx.Err())
			}
			g.mu.Unlock()
			out = <-w.done // in a statement now: its outcome is the answer
		}
	}
	if out.lead {
		return in.lead(ctx)
	}
	return out.err
}

// lead writes the queue's first group (the caller's own row is its
// first), answers the others in it, hands the lead on, and returns its
// own row's outcome. The statement does not take ctx's cancellation:
// the rows of other Submits ride in it.
func (in *Intake) lead(ctx context.Context) error {
	g := &in.group
	g.mu.Lock()
	n := min(len(g.queue), intakeGroupMax)
	group := make([]*intakeWrite, n)
	copy(group, g.queue)
	g.queue = g.queue[n:]
	g.mu.Unlock()

	err := in.insertGroup(context.WithoutCancel(ctx), group)
	for _, w := range group[1:] {
		w.done <- intakeOutcome{err: err}
	}

	g.mu.Lock()
	if len(g.queue) == 0 {
		g.writing = false
		g.queue = nil // let the array go
	} else {
		g.queue[0].done <- intakeOutcome{lead: true}
	}
	g.mu.Unlock()
	return err
}

// insertGroup writes group's rows in one INSERT statement (atomic in
// SQLite: all rows or none) under the intake's write mutex. A failure is
// told to the health once and every row gets the same error.
func (in *Intake) insertGroup(ctx context.Context, group []*intakeWrite) error {
	args := make([]any, 0, len(group)*intakeColumns)
	for _, w := range group {
		args = append(args, w.args...)
	}
	in.group.waiting.Add(1)
	in.write.Lock()
	in.group.waiting.Add(-1)
	_, err := in.s.db.ExecContext(ctx, insertIntakeRowsSQL(len(group)), args...)
	in.write.Unlock()
	if err == nil {
		return nil
	}
	if in.health != nil {
		in.health.Observe(err)
		if herr := in.health.Err(); herr != nil {
			return herr
		}
	}
	return fmt.Errorf("queueing a subscription: %w", err)
}

// insertIntakeRowsSQL is insertIntakeSQL with n rows of values.
func insertIntakeRowsSQL(n int) string {
	if n == 1 {
		return insertIntakeSQL
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", intakeColumns), ",") + ")"
	var b strings.Builder
	b.Grow(len(insertIntakeSQL) + n*(len(row)+1))
	b.WriteString(insertIntakeSQL)
	for range n - 1 {
		b.WriteString(",")
		b.WriteString(row)
	}
	return b.String()
}

func indexOf(q []*intakeWrite, w *intakeWrite) int {
	for i, x := range q {
		if x == w {
			return i
		}
	}
	return -1
}
