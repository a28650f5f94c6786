package subscribers

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Intake answers subscription requests from the public form at the same
// cost for every address. Submit checks only what is the same for every
// address (the address's syntax, the source, the lists chosen) and writes
// the request into the table subscribe_intake with one INSERT that reads
// nothing about the address; Run does the per-address work (the
// subscriber's rows, its suppression, the confirmation mail) after the
// response has gone. So the answer's time says nothing about whether an
// address is new, waiting, confirmed or suppressed (issue 15; DESIGN.md
// flow 1), and a request that was answered survives a crash: the next
// Run does it.
type Intake struct {
	s      *Store
	wake   chan struct{}
	health IntakeHealth
	// write is held around each of Submit's group INSERTs and around
	// each transaction of Run, so that a group waiting for Run's
	// transaction is let in as soon as it ends, not after SQLite's busy
	// handler has slept (1, 2, 5, 10 ms…): at 1,000 requests/s that
	// sleep made the p99.
	write sync.Mutex
	// group gathers concurrent Submits into one INSERT (intake_group.go).
	group intakeGroup
}

// IntakeHealth is the database's health as the intake uses it
// (store.Health satisfies it): while Err is not nil, Submit refuses every
// request alike; Submit and Run tell Observe why a write failed.
type IntakeHealth interface {
	Err() error
	Observe(err error)
}

// NewIntake returns an Intake in front of s. Requests are written at once;
// their work is done while Run runs. health may be nil.
func (s *Store) NewIntake(health IntakeHealth) *Intake {
	in := &Intake{s: s, wake: make(chan struct{}, 1), health: health}
	// Run starts as if woken: what an earlier run left is done
	// IntakeDelay after the start, with what arrives meanwhile.
	in.wake <- struct{}{}
	return in
}

// insertIntakeSQL is the one statement Submit runs against the
// database, with one row of values, or more when concurrent Submits are
// written together (intake_group.go). subscribe_intake has no
// constraint or index on the address, so it costs the same whoever the
// address belongs to.
const insertIntakeSQL = `INSERT INTO subscribe_intake
  (at_ms, email, name, lists, source, lang, ip, user_agent, message_id, actor) VALUES (?,?,?,?,?,?,?,?,?,?)`

// Submit checks req as Subscribe would, without reading anything about the
// address, and writes it for Run. It returns an *AddressError for a bad
// address, ErrNoList, ErrUnknownList or ErrListClosed for bad list
// choices, and nil otherwise, whoever the address belongs to. While the
// database's health reports a problem, and when the write fails (a full
// disk), it returns the same error for every address.
func (in *Intake) Submit(ctx context.Context, req SubscribeRequest) error {
	if in.s.opt.Signer == nil {
		return ErrNoSigner
	}
	a, err := ParseAddress(req.Email)
	if err != nil {
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
	lists, err := json.Marshal(req.Lists)
	if err != nil {
		return fmt.Errorf("queueing a subscription: %w", err)
	}
	ev := req.Evidence
	if err := in.insertRows(ctx, []any{in.s.now().UnixMilli(), a.String(), req.Name, string(lists),
		req.Source, req.Lang, ev.IP, ev.UserAgent, ev.MessageID, ev.Actor}); err != nil {
		return err
	}
	select {
	case in.wake <- struct{}{}:
	default: // Run has been woken already
	}
	return nil
}

// IntakeDelay is how long Run lets a request wait before doing its work,
// with every request that arrives meanwhile: the database work of a new
// address then happens at no fixed time after its answer, so that not even
// the load it adds times one address's request.
const IntakeDelay = 200 * time.Millisecond

// intakeBatch is how many rows Run reads at a time.
const intakeBatch = 100

// Run does the written requests until ctx ends: IntakeDelay after its
// start those an earlier run left in the table (a crash, a stop), and
// IntakeDelay after the first request that finds it idle that one and
// every other written meanwhile. Once ctx has ended it finishes what is
// written within a few seconds and leaves the rest for the next Run. A
// request that is refused is logged and deleted, as the citizen's answer
// has long gone.
func (in *Intake) Run(ctx context.Context) error {
	if n, err := in.pending(ctx); err == nil && n > 0 {
		in.s.log.Info("resuming subscription requests left by an earlier run", "requests", n)
	}
	for {
		select {
		case <-in.wake:
			pause(ctx, IntakeDelay)
			in.drain(ctx)
		case <-ctx.Done():
			in.drain(ctx)
			return nil
		}
	}
}

// intakeRow is one request read back from subscribe_intake.
type intakeRow struct {
	id   int64
	atMS int64
	req  SubscribeRequest
}

// deleteIntakeSQL deletes the row r read, and no other: SQLite gives the
// id of a deleted row to the next INSERT when it was the largest, so
// after an erasure took r's row a new request can hold r.id. Its time and
// address tell it apart.
const deleteIntakeSQL = `DELETE FROM subscribe_intake WHERE id = ? AND at_ms = ? AND email = ?`

// drain does the work of every row in the table, oldest first, within a
// few seconds once ctx has ended.
func (in *Intake) drain(ctx context.Context) {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
	}
	var after int64
	wait := time.Second
	for ctx.Err() == nil {
		rows, err := in.rows(ctx, after)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			in.observe(err)
			in.s.log.Warn("reading subscription requests failed; retrying", "retry_in", wait, "err", err)
			pause(ctx, wait)
			wait = min(2*wait, time.Minute)
			continue
		}
		if len(rows) == 0 {
			return
		}
		for _, r := range rows {
			in.subscribe(ctx, r)
			after = r.id
		}
	}
}

// rows reads up to intakeBatch requests after the row id after.
func (in *Intake) rows(ctx context.Context, after int64) ([]intakeRow, error) {
	rs, err := in.s.db.QueryContext(ctx, `SELECT id, at_ms, email, name, lists, source, lang, ip, user_agent, message_id, actor
FROM subscribe_intake WHERE id > ? ORDER BY id LIMIT ?`, after, intakeBatch)
	if err != nil {
		return nil, fmt.Errorf("reading subscription requests: %w", err)
	}
	defer rs.Close()
	var out []intakeRow
	for rs.Next() {
		var r intakeRow
		var lists string
		ev := &r.req.Evidence
		if err := rs.Scan(&r.id, &r.atMS, &r.req.Email, &r.req.Name, &lists, &r.req.Source, &r.req.Lang,
			&ev.IP, &ev.UserAgent, &ev.MessageID, &ev.Actor); err != nil {
			return nil, fmt.Errorf("reading subscription requests: %w", err)
		}
		// A row whose lists do not decode keeps no list: Subscribe
		// refuses it with ErrNoList and it is deleted.
		_ = json.Unmarshal([]byte(lists), &r.req.Lists)
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("reading subscription requests: %w", err)
	}
	return out, nil
}

// pending counts the rows waiting.
func (in *Intake) pending(ctx context.Context) (int, error) {
	var n int
	err := in.s.db.QueryRowContext(ctx, `SELECT count(*) FROM subscribe_intake`).Scan(&n)
	return n, err
}

// errIntakeGone says a row was no longer there when its work began:
// done already, or its address erased meanwhile.
var errIntakeGone = errors.New("subscription request no longer pending")

// subscribe does one request's work and deletes its row in the same
// transaction, so a crash leaves either both or neither. A failure of the
// database (a full disk, a lock) is told to the health and retried, with
// a pause doubling from 1 s to 1 min, until it succeeds or ctx ends (the
// row stays for the next Run): a request that was answered is not
// dropped. A refused request is logged and its row deleted.
func (in *Intake) subscribe(ctx context.Context, r intakeRow) {
	claim := func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, deleteIntakeSQL, r.id, r.atMS, r.req.Email)
		if err != nil {
			return fmt.Errorf("deleting subscription request: %w", err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return errIntakeGone
		}
		return err
	}
	ic := intakeClaim{claim: claim, lock: runLock{in}}
	wait := time.Second
	for {
		err := in.s.subscribe(ctx, r.req, ic)
		if err == nil || errors.Is(err, errIntakeGone) || ctx.Err() != nil {
			return
		}
		var ns notSentError
		if errors.As(err, &ns) {
			// Recorded, row deleted; only the mail is missing. Subscribe
			// again (an already waiting address) sends it, unless the
			// subscriber has gone meanwhile (erased): that one must not
			// come back from a request made before.
			ic.claim = func(tx *sql.Tx) error {
				_, err := subscriberByEmail(ctx, tx, r.req.Email)
				if errors.Is(err, ErrNotFound) {
					return errIntakeGone
				}
				return err
			}
		}
		if refused(err) {
			in.s.log.Error("queued subscription refused", "source", r.req.Source, "lists", len(r.req.Lists), "err", err)
			if _, err := in.s.db.ExecContext(ctx, deleteIntakeSQL, r.id, r.atMS, r.req.Email); err != nil {
				in.s.log.Warn("deleting a refused subscription request failed", "err", err)
			}
			return
		}
		in.observe(err)
		in.s.log.Warn("queued subscription failed; retrying", "source", r.req.Source, "retry_in", wait, "err", err)
		if !pause(ctx, wait) {
			return
		}
		wait = min(2*wait, time.Minute)
	}
}

// refused reports whether err is Subscribe refusing the request itself
// (trying again cannot help), rather than the database failing.
func refused(err error) bool {
	var ae *AddressError
	return errors.As(err, &ae) || errors.Is(err, ErrUnknownList) || errors.Is(err, ErrNoList) ||
		errors.Is(err, ErrBadSource) || errors.Is(err, ErrListClosed)
}

func (in *Intake) observe(err error) {
	if in.health != nil {
		in.health.Observe(err)
	}
}

// pause waits d or until ctx ends, and reports whether d passed.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
