package mailer

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Result tells where a message went.
type Result struct {
	Relay     string // host:port of the relay that took it
	QueueID   string // the relay's queue id, when its reply named one
	MessageID string
}

// Send builds and sends one system mail (confirmation, reminder) now,
// retrying temporary failures with backoff until ctx ends. A failure is an
// *Error (errors.As) when the relay answered or the network failed.
func (m *Mailer) Send(ctx context.Context, msg *Message) (Result, error) {
	if len(m.pool.relays) == 0 {
		return Result{}, ErrNoRelay
	}
	if msg.MessageID == "" {
		msg.MessageID = newMessageID(Domain(msg.FromAddress))
	}
	data, err := m.Build(msg)
	if err != nil {
		return Result{}, fmt.Errorf("sending mail: %w", err)
	}
	domain := Domain(msg.To)
	for attempt := 1; ; attempt++ {
		if err := m.waitSend(ctx, domain); err != nil {
			return Result{}, err
		}
		if until, _ := m.pool.heldUntil(m.now()); !until.IsZero() {
			m.limits.release(domain)
			if err := pause(ctx, until.Sub(m.now())); err != nil {
				return Result{}, fmt.Errorf("sending mail: %w", err)
			}
			continue
		}
		qid, relay, e := m.transmit(ctx, msg, data, domain)
		m.limits.release(domain)
		if e == nil {
			m.limits.ok(domain)
			m.pool.ok(relay)
			return Result{Relay: relay, QueueID: qid, MessageID: msg.MessageID}, nil
		}
		if !e.Temporary || errors.Is(ctx.Err(), context.Canceled) {
			return Result{}, e
		}
		wait := m.backoff(attempt)
		if until := m.rest(e, relay, domain); !until.IsZero() {
			wait = max(wait, until.Sub(m.now()))
		}
		m.log.Info("send retry", "attempt", attempt, "code", e.Code, "wait", wait)
		if pause(ctx, wait) != nil {
			return Result{}, e
		}
	}
}

// pause waits d, or less when ctx ends (its error).
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *Mailer) waitSend(ctx context.Context, domain string) error {
	for {
		wait, ok := m.limits.acquire(domain, m.now())
		if ok {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("sending mail: %w", ctx.Err())
		}
	}
}
