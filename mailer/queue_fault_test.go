package mailer

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordLog is a slog handler that keeps every record's message.
type recordLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *recordLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *recordLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *recordLog) WithGroup(string) slog.Handler            { return l }
func (l *recordLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Level.String()+" "+r.Message)
	return nil
}

func (l *recordLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.msgs...)
}

// failSwitch makes every write of a queued mail's result fail while its
// row says on: a trigger RAISEs on the DELETE that records "sent" and on
// the UPDATE that records a retry (not on the claim, which only moves
// next_attempt_ms).
func failSwitch(t *testing.T, e *engine) func(on bool) {
	t.Helper()
	for _, q := range []string{
		`CREATE TABLE fault (on_ INTEGER NOT NULL)`,
		`INSERT INTO fault VALUES (0)`,
		`CREATE TRIGGER fail_delete BEFORE DELETE ON mail_queue WHEN (SELECT on_ FROM fault)
			BEGIN SELECT RAISE(ABORT, 'database or disk is full (injected)'); END`,
		`CREATE TRIGGER fail_update BEFORE UPDATE OF attempts ON mail_queue WHEN (SELECT on_ FROM fault)
			BEGIN SELECT RAISE(ABORT, 'database or disk is full (injected)'); END`,
	} {
		if _, err := e.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return func(on bool) {
		if _, err := e.db.Exec(`UPDATE fault SET on_ = ?`, on); err != nil {
			t.Fatal(err)
		}
	}
}

// Issue 16: when the queue's result write fails, the queue backs off
// instead of sending the mail again. Durations are scaled down 100 times:
// the write fails for "60 s" (600 ms), pauses grow from "1 s" to "30 s",
// a repeated error is logged once a "minute".
func TestIssue16QueueResultWriteFailsSentOnce(t *testing.T) {
	t.Parallel()
	const scale = 100
	logs := &recordLog{}
	health := &fakeHealth{}
	e := newEngine(t, nil, func(o *Options) { o.Logger = slog.New(logs); o.Health = health })
	e.pauseLo, e.pauseHi = pauseMin/scale, pauseMax/scale
	e.errs.every = errLogEvery / scale
	fail := failSwitch(t, e)
	fail(true)
	runQueue(t, e.Mailer)
	if err := e.Enqueue(context.Background(), "confirmation", confirmation("citizen@example.jp")); err != nil {
		t.Fatal(err)
	}
	failFor := 60 * time.Second / scale
	start := time.Now()
	for e.sink.count("citizen@example.jp") == 0 && time.Since(start) < 10*time.Second {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(failFor - time.Since(start))
	if n, _ := e.QueueLength(context.Background()); n != 1 {
		t.Fatalf("queue holds %d mails while its result write fails, want 1", n)
	}
	if health.failures() == 0 {
		t.Error("Health was not told of the failed writes")
	}
	fail(false)
	if !waitQueue(t, e.Mailer) {
		t.Fatal("queue not empty 10 s after the write works again")
	}
	if n := e.sink.count("citizen@example.jp"); n != 1 {
		t.Errorf("the relay got %d copies of the confirmation, want exactly 1", n)
	}
	var errLines []string
	for _, l := range logs.lines() {
		if strings.HasPrefix(l, "ERROR") {
			errLines = append(errLines, l)
		}
	}
	// Pauses 1+2+4+8+16+30 s fill a minute: at most ~7 tries, and the
	// repeated error is written at most twice in that minute.
	if len(errLines) == 0 || len(errLines) > 4 {
		t.Errorf("%d ERROR lines in the log during a minute of failing writes, want 1..4:\n%s",
			len(errLines), strings.Join(errLines, "\n"))
	}
	if len(logs.lines()) > 12 {
		t.Errorf("%d log lines in all, want a bounded few:\n%s", len(logs.lines()), strings.Join(logs.lines(), "\n"))
	}
}

// While Health reports a problem the queue sends nothing; it sends when
// the problem clears.
func TestQueueWaitsWhileUnhealthy(t *testing.T) {
	t.Parallel()
	health := &fakeHealth{}
	health.set(errors.New("database disk image is malformed"))
	e := newEngine(t, nil, func(o *Options) { o.Health = health })
	runQueue(t, e.Mailer)
	if err := e.Enqueue(context.Background(), "confirmation", confirmation("wait@example.jp")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if n := e.sink.count("wait@example.jp"); n != 0 {
		t.Fatalf("sent %d while the store was unhealthy", n)
	}
	health.set(nil)
	e.queueWake <- struct{}{}
	if !waitQueue(t, e.Mailer) || e.sink.count("wait@example.jp") != 1 {
		t.Fatalf("after the store recovered: %d copies", e.sink.count("wait@example.jp"))
	}
}

// fakeHealth is a Health whose problem the test sets.
type fakeHealth struct {
	mu       sync.Mutex
	err      error
	observed int
}

func (h *fakeHealth) set(err error) { h.mu.Lock(); h.err = err; h.mu.Unlock() }
func (h *fakeHealth) Err() error    { h.mu.Lock(); defer h.mu.Unlock(); return h.err }
func (h *fakeHealth) Observe(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.observed++
	}
}
func (h *fakeHealth) failures() int { h.mu.Lock(); defer h.mu.Unlock(); return h.observed }
