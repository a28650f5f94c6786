package mailer

import (
	"context"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// confirmation is a system mail to rcpt.
func confirmation(rcpt string) *Message {
	return &Message{FromName: "京都市", FromAddress: "news@city.example.jp", To: rcpt,
		Subject: "登録の確認", Text: "下のリンクを開いてください。\n", AutoSubmitted: true}
}

// runQueue runs RunQueue until the test ends.
func runQueue(t *testing.T, m *Mailer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.RunQueue(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunQueue: %v", err)
		}
	})
}

// waitQueue waits until the queue is empty and returns false if it is not
// within 10 s.
func waitQueue(t *testing.T, m *Mailer) bool {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if n, err := m.QueueLength(context.Background()); err == nil && n == 0 {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func TestQueueSendsOnceAndForgets(t *testing.T) {
	t.Parallel()
	e := newEngine(t, nil, nil)
	runQueue(t, e.Mailer)
	for _, r := range []string{"a@example.jp", "user..name.@docomo.ne.jp"} {
		if err := e.Enqueue(context.Background(), "confirmation", confirmation(r)); err != nil {
			t.Fatal(err)
		}
	}
	if !waitQueue(t, e.Mailer) {
		t.Fatal("queue not empty after 10 s")
	}
	if n := e.sink.count("a@example.jp"); n != 1 {
		t.Errorf("a@example.jp got %d copies, want 1", n)
	}
	if n := e.sink.count("user..name.@docomo.ne.jp"); n != 1 {
		t.Errorf("the carrier address got %d copies, want 1", n)
	}
}

// A mail queued by a process that stopped before sending it goes out when
// the next one runs the queue.
func TestQueueSurvivesRestart(t *testing.T) {
	t.Parallel()
	e := newEngine(t, nil, nil)
	first := newMailer(t, e.db, Options{}) // no relay: it only stores
	if err := first.Enqueue(context.Background(), "confirmation", confirmation("late@example.jp")); err != nil {
		t.Fatal(err)
	}
	if n := e.sink.count("late@example.jp"); n != 0 {
		t.Fatalf("sent before any queue ran: %d", n)
	}
	runQueue(t, e.Mailer)
	if !waitQueue(t, e.Mailer) || e.sink.count("late@example.jp") != 1 {
		t.Fatalf("after restart: queue not empty or %d copies", e.sink.count("late@example.jp"))
	}
}

func TestQueueRetriesAndDrops(t *testing.T) {
	t.Parallel()
	f := func(st, rcpt string, try int) *smtp.SMTPError {
		switch {
		case st != StageRcpt:
			return nil
		case rcpt == "later@example.jp" && try == 1, rcpt == "never@example.jp":
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		case rcpt == "nobody@example.jp":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}
	e := newEngine(t, f, func(o *Options) { o.MaxRetryAge = 300 * time.Millisecond })
	runQueue(t, e.Mailer)
	for _, r := range []string{"later@example.jp", "nobody@example.jp", "never@example.jp"} {
		if err := e.Enqueue(context.Background(), "confirmation", confirmation(r)); err != nil {
			t.Fatal(err)
		}
	}
	if !waitQueue(t, e.Mailer) {
		t.Fatal("queue not empty after 10 s")
	}
	for r, want := range map[string]int{"later@example.jp": 1, "nobody@example.jp": 0, "never@example.jp": 0} {
		if n := e.sink.count(r); n != want {
			t.Errorf("%s: %d copies, want %d", r, n, want)
		}
	}
	if n := e.sink.get("tries", "nobody@example.jp").(int); n != 1 {
		t.Errorf("a refused mail was tried %d times, want 1", n)
	}
	if n := e.sink.get("tries", "never@example.jp").(int); n < 2 {
		t.Errorf("a mail that kept failing was tried %d times before it was dropped, want it retried", n)
	}
}
