package subscribers

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Intake answers subscription requests from the public form at the same
// cost for every address. Submit checks only what is the same for every
// address (the address's syntax, the source, the lists chosen) and queues
// the request; Run does the per-address work (the subscriber's rows, its
// suppression, the confirmation mail) after the response has gone. So the
// answer's time says nothing about whether an address is new, waiting,
// confirmed or suppressed (issue 15; DESIGN.md flow 1).
type Intake struct {
	s      *Store
	q      chan SubscribeRequest
	health IntakeHealth
}

// IntakeHealth is the database's health as the intake uses it
// (store.Health satisfies it): while Err is not nil, Submit refuses every
// request alike; Run tells Observe why a write failed.
type IntakeHealth interface {
	Err() error
	Observe(err error)
}

// IntakeQueue is how many requests wait for Run before Submit blocks.
const IntakeQueue = 1024

// NewIntake returns an Intake in front of s. Nothing is done until Run
// runs. health may be nil.
func (s *Store) NewIntake(health IntakeHealth) *Intake {
	return &Intake{s: s, q: make(chan SubscribeRequest, IntakeQueue), health: health}
}

// Submit checks req as Subscribe would, without reading anything about the
// address, and queues it. It returns an *AddressError for a bad address,
// ErrNoList or ErrUnknownList for bad list choices, and nil otherwise,
// whoever the address belongs to. When the queue is full it waits, the same
// for every address, until ctx ends.
func (in *Intake) Submit(ctx context.Context, req SubscribeRequest) error {
	if in.s.opt.Signer == nil {
		return ErrNoSigner
	}
	if _, err := ParseAddress(req.Email); err != nil {
		return err
	}
	if req.Source == "" {
		req.Source = SourceWeb
	}
	if err := checkSource(req.Source); err != nil {
		return err
	}
	if _, err := in.s.publicLists(ctx, req.Lists); err != nil {
		return err
	}
	if in.health != nil {
		// The same answer for every address: the database cannot take
		// anyone's request now (a full disk), so it is refused, not queued.
		if err := in.health.Err(); err != nil {
			return err
		}
	}
	select {
	case in.q <- req:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("queueing a subscription: %w", ctx.Err())
	}
}

// IntakeDelay is how long Run lets a request wait before doing its work,
// with every request that arrives meanwhile: the database work of a new
// address then happens at no fixed time after its answer, so that not even
// the load it adds times one address's request.
const IntakeDelay = 200 * time.Millisecond

// Run subscribes queued requests until ctx ends, then finishes those still
// queued within a few seconds. A request that fails is logged, as the
// citizen's answer has long gone.
func (in *Intake) Run(ctx context.Context) error {
	for {
		select {
		case req := <-in.q:
			t := time.NewTimer(IntakeDelay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
			in.drain(ctx, &req)
		case <-ctx.Done():
			in.drain(ctx, nil)
			return nil
		}
	}
}

// drain does the work of first (when not nil) and of every queued
// request, within a few seconds once ctx has ended.
func (in *Intake) drain(ctx context.Context, first *SubscribeRequest) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if ctx.Err() == nil {
		dctx = ctx
	}
	if first != nil {
		in.subscribe(dctx, *first)
	}
	for {
		select {
		case req := <-in.q:
			in.subscribe(dctx, req)
		default:
			return
		}
	}
}

// subscribe does one request's work. A failure of the database (a full
// disk, a lock) is told to the health and retried, with a pause doubling
// from 1 s to 1 min, until it succeeds or ctx ends: a request that was
// answered is not dropped. Other failures are logged.
func (in *Intake) subscribe(ctx context.Context, req SubscribeRequest) {
	wait := time.Second
	for {
		err := in.s.Subscribe(ctx, req)
		if err == nil || ctx.Err() != nil {
			return
		}
		var ae *AddressError
		if errors.As(err, &ae) || errors.Is(err, ErrUnknownList) || errors.Is(err, ErrNoList) || errors.Is(err, ErrBadSource) ||
			errors.Is(err, ErrListClosed) {
			in.s.log.Error("queued subscription refused", "source", req.Source, "lists", len(req.Lists), "err", err)
			return
		}
		if in.health != nil {
			in.health.Observe(err)
		}
		in.s.log.Warn("queued subscription failed; retrying", "source", req.Source, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		wait = min(2*wait, time.Minute)
	}
}
