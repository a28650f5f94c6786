package mailer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
)

// testRenderer personalises a small message per delivery.
type testRenderer struct{}

func (testRenderer) Render(ctx context.Context, d Delivery) (*Message, error) {
	if strings.HasPrefix(d.Email, "skip") {
		return nil, ErrSkip
	}
	return &Message{
		FromName: "京都市", FromAddress: "news@city.example.jp",
		Subject:        "第1号のお知らせ",
		Text:           d.Name + " 様\n本文です。\n",
		HTML:           "<p>" + d.Name + " 様</p>",
		ListID:         "news <news.city.example.jp>",
		UnsubscribeURL: fmt.Sprintf("https://city.example.jp/unsubscribe/%d", d.SubscriberID),
	}, nil
}

type bounceLog struct {
	mu sync.Mutex
	by map[string]*Error
}

func (b *bounceLog) RecordSendFailure(ctx context.Context, d Delivery, e *Error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.by == nil {
		b.by = map[string]*Error{}
	}
	b.by[d.Email] = e
	return nil
}

func (b *bounceLog) get(email string) *Error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.by[email]
}

// listSource yields the given addresses as subscribers 1..n.
type listSource []string

func (l listSource) EachRecipient(ctx context.Context, tx *sql.Tx, listID int64, fn func(Recipient) error) error {
	for i, e := range l {
		if err := fn(Recipient{SubscriberID: int64(i + 1), Email: e, Name: fmt.Sprintf("読者%d", i+1)}); err != nil {
			return err
		}
	}
	return nil
}

// engine is a Mailer wired to a test sink, with Run under control.
type engine struct {
	*Mailer
	db      *sql.DB
	sink    *testSink
	bounces *bounceLog
	done    chan int64
}

func newEngine(t *testing.T, f fault, tweak func(*Options)) *engine {
	t.Helper()
	sink := newTestSink(t, f)
	db := openDB(t)
	e := &engine{db: db, sink: sink, bounces: &bounceLog{}, done: make(chan int64, 16)}
	opt := Options{
		Relays:    []Relay{sink.relay()},
		Timeout:   2 * time.Second,
		Renderer:  testRenderer{},
		Bounces:   e.bounces,
		RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		ThrottleHold: 50 * time.Millisecond,
		Workers:      8, BatchSize: 50,
		OnIssueDone: func(ctx context.Context, id int64) { e.done <- id },
	}
	if tweak != nil {
		tweak(&opt)
	}
	e.Mailer = newMailer(t, db, opt)
	return e
}

// send snapshots addrs as issue 1 and runs the engine until it is done.
func (e *engine) send(t *testing.T, addrs []string, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := e.Snapshot(ctx, 1, 1, listSource(addrs)); err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- e.Run(ctx) }()
	select {
	case <-e.done:
	case err := <-ran:
		t.Fatalf("Run ended early: %v", err)
	case <-time.After(within):
		p, _ := e.Progress(ctx, 1)
		t.Fatalf("issue not done within %v: %+v", within, p)
	}
	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

type row struct {
	status   string
	attempts int
	code     sql.NullInt64
	lastErr  sql.NullString
}

func (e *engine) row(t *testing.T, email string) row {
	t.Helper()
	var r row
	err := e.db.QueryRow(`SELECT status, attempts, last_code, last_error FROM deliveries WHERE email = ?`, email).
		Scan(&r.status, &r.attempts, &r.code, &r.lastErr)
	if err != nil {
		t.Fatalf("row %s: %v", email, err)
	}
	return r
}

func onFirst(stage string, code int, enh smtp.EnhancedCode, rcpts ...string) fault {
	return func(st, rcpt string, try int) *smtp.SMTPError {
		for _, r := range rcpts {
			if st == stage && strings.Trim(rcpt, "<>") == r && try == 1 {
				return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: "injected"}
			}
		}
		return nil
	}
}

func always(stage string, code int, enh smtp.EnhancedCode, rcpt string) fault {
	return func(st, r string, try int) *smtp.SMTPError {
		if st == stage && r == rcpt {
			return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: "injected"}
		}
		return nil
	}
}

// Issue 5 acceptance: 4xx then success → sent once.
func TestTemporaryThenSuccessSentOnce(t *testing.T) {
	t.Parallel()
	e := newEngine(t, onFirst(StageRcpt, 451, smtp.EnhancedCode{4, 3, 0}, "a@example.jp"), nil)
	e.send(t, []string{"a@example.jp", "b@example.jp"}, 20*time.Second)
	if n := e.sink.count("a@example.jp"); n != 1 {
		t.Errorf("a got %d copies, want 1", n)
	}
	if r := e.row(t, "a@example.jp"); r.status != StatusSent || r.attempts != 2 {
		t.Errorf("a: %+v, want sent after 2 attempts", r)
	}
	if r := e.row(t, "b@example.jp"); r.status != StatusSent || r.attempts != 1 {
		t.Errorf("b: %+v", r)
	}
}

// Issue 5 acceptance: 5xx at RCPT → bounce recorded, no retry.
func TestPermanentAtRcptRecordsBounce(t *testing.T) {
	t.Parallel()
	e := newEngine(t, always(StageRcpt, 550, smtp.EnhancedCode{5, 1, 1}, "gone@example.jp"), nil)
	e.send(t, []string{"gone@example.jp", "ok@example.jp"}, 20*time.Second)
	r := e.row(t, "gone@example.jp")
	if r.status != StatusFailed || r.attempts != 1 || r.code.Int64 != 550 {
		t.Errorf("gone: %+v, want failed once with 550", r)
	}
	if tries := e.sink.get("tries", "gone@example.jp").(int); tries != 1 {
		t.Errorf("RCPT tried %d times, want 1 (no retry)", tries)
	}
	be := e.bounces.get("gone@example.jp")
	if be == nil || be.Code != 550 || be.Enhanced != "5.1.1" || be.Stage != StageRcpt || be.Temporary {
		t.Errorf("bounce recorded as %+v", be)
	}
	if e.sink.count("ok@example.jp") != 1 {
		t.Error("the other recipient was not sent")
	}
}

// Issue 5 acceptance: 421 → backoff then success; the domain is slowed.
func TestThrottledThenSuccess(t *testing.T) {
	t.Parallel()
	e := newEngine(t, onFirst(StageRcpt, 421, smtp.EnhancedCode{4, 7, 0}, "x@au.com"), nil)
	e.send(t, []string{"x@au.com", "y@example.jp"}, 20*time.Second)
	if r := e.row(t, "x@au.com"); r.status != StatusSent || r.attempts != 2 || e.sink.count("x@au.com") != 1 {
		t.Errorf("x: %+v copies %d", r, e.sink.count("x@au.com"))
	}
}

// Issue 5 acceptance: stall → timeout and retry.
func TestStallTimesOutAndRetries(t *testing.T) {
	t.Parallel()
	e := newEngine(t, nil, func(o *Options) { o.Timeout = time.Second })
	e.sink.mu.Lock()
	e.sink.stallOn = "slow@example.jp"
	e.sink.mu.Unlock()
	e.send(t, []string{"slow@example.jp", "fast@example.jp"}, 20*time.Second)
	if r := e.row(t, "slow@example.jp"); r.status != StatusSent || r.attempts != 2 {
		t.Errorf("slow: %+v", r)
	}
	if n := e.sink.count("slow@example.jp"); n != 1 {
		t.Errorf("slow got %d copies", n)
	}
}

// Issue 5: the relay drops the connection mid-DATA → retried, sent once.
func TestDropMidDataRetries(t *testing.T) {
	t.Parallel()
	e := newEngine(t, nil, nil)
	e.sink.mu.Lock()
	e.sink.dropOn = "cut@example.jp"
	e.sink.mu.Unlock()
	e.send(t, []string{"cut@example.jp", "whole@example.jp"}, 20*time.Second)
	if r := e.row(t, "cut@example.jp"); r.status != StatusSent || r.attempts != 2 || e.sink.count("cut@example.jp") != 1 {
		t.Errorf("cut: %+v, copies %d", r, e.sink.count("cut@example.jp"))
	}
}

func TestMaxRetryAgeFails(t *testing.T) {
	t.Parallel()
	e := newEngine(t, always(StageRcpt, 452, smtp.EnhancedCode{4, 2, 2}, "full@example.jp"),
		func(o *Options) { o.MaxRetryAge = 150 * time.Millisecond })
	e.send(t, []string{"full@example.jp"}, 20*time.Second)
	r := e.row(t, "full@example.jp")
	if r.status != StatusFailed || r.attempts < 2 || r.code.Int64 != 452 {
		t.Errorf("full: %+v, want failed after retries", r)
	}
	if e.bounces.get("full@example.jp") != nil {
		t.Error("a temporary failure was recorded as a bounce")
	}
}

func TestEnvelopeVERPAndDSN(t *testing.T) {
	t.Parallel()
	e := newEngine(t, nil, nil)
	e.send(t, []string{"user..name.@docomo.ne.jp", "skip@example.jp", "nobody@example.invalid"}, 20*time.Second)
	// localmail refuses *.invalid with 550 5.1.1 and, because we asked for
	// NOTIFY=FAILURE with RET=HDRS (RFC 3461), returns a DSN carrying only
	// the headers to the VERP address of that delivery.
	var bad int64
	e.db.QueryRow(`SELECT id FROM deliveries WHERE email = ?`, "nobody@example.invalid").Scan(&bad)
	dsns := e.sink.dsnList()
	if len(dsns) != 1 {
		t.Fatalf("%d DSNs, want 1", len(dsns))
	}
	if !strings.Contains(string(dsns[0]), "Delivered-To: "+e.VERP(bad)+"\r\n") {
		t.Errorf("DSN not addressed to the VERP of delivery %d:\n%s", bad, dsns[0])
	}
	if !strings.Contains(string(dsns[0]), "text/rfc822-headers") {
		t.Errorf("DSN returns more than the headers (RET=HDRS)")
	}
	if r := e.row(t, "nobody@example.invalid"); r.status != StatusFailed || e.bounces.get("nobody@example.invalid") == nil {
		t.Errorf("nobody: %+v", r)
	}
	// go-smtp's server unquotes the path it parsed; the To: header below
	// shows the quoting on the wire.
	rcpt := "user..name.@docomo.ne.jp"
	if e.sink.count(rcpt) != 1 {
		t.Fatalf("quoted carrier address not delivered: %+v %v", e.row(t, "user..name.@docomo.ne.jp"), 0)
	}
	var id int64
	e.db.QueryRow(`SELECT id FROM deliveries WHERE email = ?`, "user..name.@docomo.ne.jp").Scan(&id)
	from := e.sink.get("from", rcpt).(string)
	if got, ok := e.ParseVERP(from); !ok || got != id {
		t.Errorf("MAIL FROM %q does not name delivery %d", from, id)
	}
	if !strings.Contains(e.sink.get("data", rcpt).(string), "<\"user..name.\"@docomo.ne.jp>") {
		t.Errorf("To header does not quote the local part")
	}
	if r := e.row(t, "skip@example.jp"); r.status != StatusSkipped {
		t.Errorf("skip: %+v", r)
	}
}

func TestSendOneOff(t *testing.T) {
	t.Parallel()
	sink := newTestSink(t, onFirst(StageRcpt, 450, smtp.EnhancedCode{4, 2, 1}, "sys@example.jp"))
	reg := prometheus.NewRegistry()
	m := newMailer(t, nil, Options{Relays: []Relay{sink.relay()}, RetryBase: 10 * time.Millisecond, Timeout: 2 * time.Second, Registerer: reg})
	msg := listMessage()
	msg.To, msg.ListID, msg.AutoSubmitted = "sys@example.jp", "", true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := m.Send(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Relay != sink.addr || sink.count("sys@example.jp") != 1 {
		t.Errorf("Send = %+v, copies %d", res, sink.count("sys@example.jp"))
	}
	if got := counter(t, reg, "kawaraban_mailer_sent_total", "sent"); got != 1 {
		t.Errorf("sent_total{result=sent} = %v", got)
	}
	if got := counter(t, reg, "kawaraban_mailer_sent_total", "temporary"); got != 1 {
		t.Errorf("sent_total{result=temporary} = %v", got)
	}
	msg.To = "nobody@example.jp"
	sink.mu.Lock()
	sink.fault = always(StageRcpt, 550, smtp.EnhancedCode{5, 1, 1}, "nobody@example.jp")
	sink.mu.Unlock()
	_, err = m.Send(ctx, msg)
	var se *Error
	if !errors.As(err, &se) || se.Temporary || se.Code != 550 || se.Enhanced != "5.1.1" || se.Stage != StageRcpt {
		t.Errorf("Send to a refused address: %v", err)
	}
}

func TestNoRelayIsAnError(t *testing.T) {
	t.Parallel()
	m := newMailer(t, nil, Options{})
	msg := listMessage()
	if _, err := m.Send(context.Background(), msg); !errors.Is(err, ErrNoRelay) {
		t.Fatalf("Send with no relay: %v", err)
	}
}

// Issue 5 acceptance: a mix over 10,000 recipients ends with every one sent
// exactly once or failed with a reason.
func TestTenThousandMix(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("10,000 sends")
	}
	const n = 10_000
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("r%d@d%d.example.jp", i, i%13)
	}
	f := func(stage, rcpt string, try int) *smtp.SMTPError {
		var i int
		fmt.Sscanf(rcpt, "r%d@", &i)
		switch {
		case i%10 == 3 && stage == StageRcpt:
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		case i%10 == 5 && stage == StageRcpt && try == 1:
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		case i%10 == 7 && stage == StageData:
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "content rejected"}
		case i%97 == 1 && stage == StageData && try == 1:
			return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "slow down"}
		}
		return nil
	}
	e := newEngine(t, f, func(o *Options) { o.BatchSize = 200 })
	e.send(t, addrs, 120*time.Second)
	rows, err := e.db.Query(`SELECT email, status, last_error FROM deliveries`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var email, st string
		var reason sql.NullString
		rows.Scan(&email, &st, &reason)
		seen++
		c := e.sink.count(email)
		switch st {
		case StatusSent:
			if c != 1 {
				t.Errorf("%s sent with %d copies", email, c)
			}
		case StatusFailed:
			if c != 0 || !reason.Valid || reason.String == "" {
				t.Errorf("%s failed with %d copies, reason %q", email, c, reason.String)
			}
		default:
			t.Errorf("%s ended %s", email, st)
		}
	}
	if seen != n {
		t.Errorf("%d rows, want %d", seen, n)
	}
	p, _ := e.Progress(context.Background(), 1)
	if p.Sent+p.Failed != n || p.Failed != 2000 {
		t.Errorf("progress %+v, want 2000 failed", p)
	}
	if p.PerSecond <= 0 || p.ETA != 0 {
		t.Errorf("progress right after the run: %.1f msgs/s, ETA %v; want a rate and no ETA (nothing left)", p.PerSecond, p.ETA)
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// Issue 16: when results cannot be committed (a full disk) Run keeps the
// claimed deliveries and tries again with growing pauses instead of
// sending beyond the in-flight window or stopping; when the write works
// again everything is recorded and each recipient got exactly one copy.
// A trigger makes every "sent" update fail for a while.
func TestIssue16RecordingFailsThenRecovers(t *testing.T) {
	t.Parallel()
	health := &fakeHealth{}
	e := newEngine(t, nil, func(o *Options) { o.BatchSize, o.InFlight, o.Health = 2, 2, health })
	e.pauseLo, e.pauseHi = 100*time.Millisecond, 200*time.Millisecond
	addrs := []string{"a@example.jp", "b@example.jp", "c@example.jp", "d@example.jp", "e@example.jp"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := e.Snapshot(ctx, 1, 1, listSource(addrs)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(`CREATE TRIGGER fail_sent BEFORE UPDATE OF status ON deliveries
		WHEN NEW.status = 'sent' BEGIN SELECT RAISE(ABORT, 'database or disk is full (injected)'); END`); err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- e.Run(ctx) }()
	time.Sleep(700 * time.Millisecond)
	sent := 0
	for _, a := range addrs {
		sent += e.sink.count(a)
	}
	if sent == 0 || sent > 2 {
		t.Fatalf("%d messages went out while their results could not be recorded, want 1..InFlight (2)", sent)
	}
	if health.failures() == 0 {
		t.Error("Health was not told of the failed writes")
	}
	if _, err := e.db.Exec(`DROP TRIGGER fail_sent`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.done:
	case err := <-ran:
		t.Fatalf("Run ended early: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("issue not done 20 s after the write works again")
	}
	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, a := range addrs {
		if n := e.sink.count(a); n != 1 {
			t.Errorf("%s got %d copies, want 1", a, n)
		}
		if r := e.row(t, a); r.status != StatusSent {
			t.Errorf("%s: status %s, want sent", a, r.status)
		}
	}
}

// unwantedChecker says "left" addresses no longer want mail; it fails once
// when failFirst is set, and counts its calls.
type unwantedChecker struct {
	mu        sync.Mutex
	calls     int
	failFirst bool
}

func (c *unwantedChecker) Unwanted(ctx context.Context, ds []Delivery) (map[int64]bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.failFirst && c.calls == 1 {
		return nil, errors.New("database is locked")
	}
	out := map[int64]bool{}
	for _, d := range ds {
		if strings.HasPrefix(d.Email, "left") {
			out[d.ID] = true
		}
	}
	return out, nil
}

// An opt-out after the snapshot is honoured at send time, checked once per
// claimed batch; a failed check holds the batch instead of sending unchecked.
func TestCheckerSkipsUnwantedPerBatch(t *testing.T) {
	t.Parallel()
	for _, failFirst := range []bool{false, true} {
		c := &unwantedChecker{failFirst: failFirst}
		e := newEngine(t, nil, func(o *Options) { o.Checker = c; o.BatchSize = 50 })
		var addrs []string
		for i := range 120 {
			prefix := "stay"
			if i%3 == 0 {
				prefix = "left"
			}
			addrs = append(addrs, fmt.Sprintf("%s%d@example.jp", prefix, i))
		}
		e.send(t, addrs, 20*time.Second)
		for _, a := range addrs {
			want, status := 1, StatusSent
			if strings.HasPrefix(a, "left") {
				want, status = 0, StatusSkipped
			}
			if n := e.sink.count(a); n != want {
				t.Errorf("failFirst=%v: %s got %d copies, want %d", failFirst, a, n, want)
			}
			if r := e.row(t, a); r.status != status {
				t.Errorf("failFirst=%v: %s is %s, want %s", failFirst, a, r.status, status)
			}
		}
		if c.calls > 10 {
			t.Errorf("checker called %d times for 120 deliveries: want once per batch", c.calls)
		}
	}
}

// rcptLog records when each RCPT reached the relay and injects one
// throttling reply.
type rcptLog struct {
	mu    sync.Mutex
	times map[string][]time.Time
	at    time.Time // when the throttling reply went out
}

func (l *rcptLog) fault(rcpt string, code int, enh smtp.EnhancedCode) fault {
	return func(st, r string, try int) *smtp.SMTPError {
		if st != StageRcpt {
			return nil
		}
		r = strings.Trim(r, "<>")
		l.mu.Lock()
		defer l.mu.Unlock()
		now := time.Now()
		l.times[r] = append(l.times[r], now)
		if r == rcpt && try == 1 {
			l.at = now
			return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: "slow down"}
		}
		return nil
	}
}

// Issue 5: 421 rests the whole relay; a rate-limit reply to one
// recipient rests only that recipient's domain. Nothing fails either way,
// and waiting for a resting relay is not counted as an attempt.
func TestThrottleRestsRelayOrDomain(t *testing.T) {
	t.Parallel()
	const hold = 600 * time.Millisecond
	const throttled = "x@au.com"
	rcpts := []string{throttled, "a@example.org", "b@example.net", "y@au.com", "c@example.com", "d@example.jp"}
	for _, tc := range []struct {
		name      string
		code      int
		enh       smtp.EnhancedCode
		relayWide bool
	}{
		{"421 rests the relay", 421, smtp.EnhancedCode{4, 3, 2}, true},
		{"454 4.7.0 rests the domain", 454, smtp.EnhancedCode{4, 7, 0}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			log := &rcptLog{times: map[string][]time.Time{}}
			e := newEngine(t, log.fault(throttled, tc.code, tc.enh), func(o *Options) {
				o.ThrottleHold, o.Workers, o.BatchSize = hold, 1, 10
			})
			e.send(t, rcpts, 20*time.Second)
			log.mu.Lock()
			defer log.mu.Unlock()
			for _, r := range rcpts {
				if n := e.sink.count(r); n != 1 {
					t.Errorf("%s: %d copies, want 1", r, n)
				}
				for _, at := range log.times[r] {
					d := at.Sub(log.at)
					resting := r == throttled || tc.relayWide || strings.HasSuffix(r, "@au.com")
					if resting && d > 0 && d < hold-100*time.Millisecond {
						t.Errorf("%s: RCPT %v after the %d, within the %v rest", r, d.Round(time.Millisecond), tc.code, hold)
					}
				}
				want := 1
				if r == throttled {
					want = 2
				}
				if row := e.row(t, r); row.attempts != want {
					t.Errorf("%s: %d attempts, want %d", r, row.attempts, want)
				}
			}
			if !tc.relayWide {
				// Other domains went on during the rest.
				during := 0
				for _, r := range rcpts {
					for _, at := range log.times[r] {
						if !strings.HasSuffix(r, "@au.com") && at.After(log.at) && at.Sub(log.at) < hold {
							during++
						}
					}
				}
				if during == 0 {
					t.Error("no other domain was sent to while au.com rested")
				}
			}
		})
	}
}

// A 5xx to MAIL FROM refuses the sender, not the recipients: nobody is
// failed or recorded as bounced; the relay rests and the mail goes out
// once it takes the sender again.
func TestPermanentAtMailWaits(t *testing.T) {
	t.Parallel()
	refuse := func(st, rcpt string, try int) *smtp.SMTPError {
		if st == StageMail && try <= 3 {
			return &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "sender address rejected"}
		}
		return nil
	}
	e := newEngine(t, refuse, func(o *Options) { o.Workers = 1 })
	rcpts := []string{"a@example.jp", "b@example.jp", "c@example.jp"}
	e.send(t, rcpts, 20*time.Second)
	for _, r := range rcpts {
		if n := e.sink.count(r); n != 1 {
			t.Errorf("%s: %d copies, want 1", r, n)
		}
	}
	// The editor sees why the mail waited.
	if p, _ := e.Progress(context.Background(), 1); !strings.Contains(p.LastError, "553") || p.LastErrorAt.IsZero() {
		t.Errorf("progress after a refused sender: last error %q at %v, want the 553", p.LastError, p.LastErrorAt)
	}
	e.bounces.mu.Lock()
	defer e.bounces.mu.Unlock()
	if n := len(e.bounces.by); n != 0 {
		t.Errorf("%d bounces recorded for a refused sender: %v", n, e.bounces.by)
	}
}
