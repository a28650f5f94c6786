// Package mailer builds and delivers kawaraban's mail.
//
// It composes RFC 5322 messages as go-mail does (text and HTML
// alternatives, RFC 2047 headers, List-Unsubscribe with RFC 8058 one-click,
// optional ISO-2022-JP, DKIM signing, CFBL headers): UTF-8 mail is written
// directly into a pooled buffer, byte for byte what go-mail writes
// (compose.go), the rest through go-mail; it gives every delivery its own
// VERP return path, and sends over pooled SMTP connections to one or more
// relays under a global rate, per-relay concurrency and per-recipient-domain
// limits (with defaults for the Japanese mobile carriers).
//
// It owns the per-recipient outbox (table deliveries, migration 0004): an
// issue's recipients are snapshotted in one transaction, workers claim
// batches, render each message through a Renderer supplied by the caller,
// send it and record the result in batched transactions. A crash or restart
// resumes from the table; at most Options.InFlight recipients can be sent
// twice after a crash (claimed and sent, result not yet committed).
//
// A relay that answers 421, or refuses our sender, rests (no mail goes to
// it, other relays take over); a rate-limit reply to a recipient rests that
// recipient's domain. Mail waits through a rest instead of failing, and
// Progress tells why.
//
// Single system mails a person waits for (confirmations) go through a
// small queue of their own (table mail_queue, migration 0010: Enqueue and
// RunQueue), so that a crash or a relay outage delays them instead of
// losing them. Each is claimed with a lease before it is sent, so it goes
// out at most once per lease.
//
// When results cannot be written (a full disk) both the outbox and the
// queue keep them, write them again after pauses growing to 30 s and send
// nothing new meanwhile; with Options.Health set they also send nothing
// while the database is unhealthy. Repeated errors are logged once a
// minute with a count.
//
// It leaves rendering (templates), who the recipients are (subscribers) and
// what a bounce means (bounces) to others: they are reached through the
// small interfaces RecipientSource, Renderer and BounceRecorder.
package mailer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kawaraban/token"
)

// TLS modes of a Relay.
const (
	TLSNone     = "none"
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
)

// Relay is one SMTP server the mailer may hand mail to.
type Relay struct {
	Host string
	Port int
	// TLS is none, starttls or tls (implicit TLS); empty means starttls.
	TLS                string
	Username, Password string
	// Priority orders relays: the lowest number is used first; the others
	// take over when it fails to connect.
	Priority int
	// MaxConns caps open connections to this relay (default 4).
	MaxConns int
	// MaxMessagesPerConn closes a connection after this many messages
	// (0 = unlimited).
	MaxMessagesPerConn int
	// InsecureSkipVerify skips certificate checks (tests only).
	InsecureSkipVerify bool
}

// DomainLimit caps sending to one recipient domain.
type DomainLimit struct {
	// PerMinute is the most messages per minute to the domain (0 = no cap).
	PerMinute int
	// Concurrency is the most messages in flight at once (0 = no cap).
	Concurrency int
	// MaxRcptPerConn is the most messages to this domain over one
	// connection before it is replaced (0 = no cap).
	MaxRcptPerConn int
}

// DKIM configures DKIM signing (RFC 6376).
type DKIM struct {
	Domain, Selector string
	// KeyPEM holds an RSA (2048 bits or more) or Ed25519 private key, PKCS#1
	// or PKCS#8.
	KeyPEM []byte
}

// Options configures a Mailer. The zero value of each field means its
// default.
type Options struct {
	Relays   []Relay
	HeloName string // default "localhost"
	// Timeout bounds each SMTP step: the dial, the greeting and each
	// command of the handshake, and each message transaction (MAIL to the
	// final reply, pipelined) (default 30s).
	Timeout time.Duration

	// GlobalPerSecond caps all sending (0 = no cap).
	GlobalPerSecond float64
	// DomainLimits is merged over DefaultDomainLimits.
	DomainLimits map[string]DomainLimit
	// Window, when set, holds outbox mail until the sending window opens.
	Window *Window

	// ReturnPathDomain and Signer make the VERP envelope sender
	// bounces+TOKEN@ReturnPathDomain. Without them the From address is used.
	ReturnPathDomain string
	Signer           *token.Signer

	DKIM *DKIM
	// CFBLAddress, when set, adds CFBL-Address and CFBL-Feedback-ID
	// (RFC 9477) to outbox mail, covered by the DKIM signature.
	CFBLAddress string

	// Workers is the number of sending goroutines (default 16).
	Workers int
	// BatchSize is how many deliveries one claim takes (default 200).
	BatchSize int
	// InFlight bounds claimed deliveries whose result is not yet committed
	// (default 4*BatchSize). After a crash at most this many can go twice.
	InFlight int
	// MaxRetryAge is how long temporary failures are retried (default 72h).
	MaxRetryAge time.Duration
	// RetryBase is the first retry delay, doubled each attempt up to
	// RetryMax (defaults 1m and 1h); jitter of ±20% is added.
	RetryBase, RetryMax time.Duration
	// ThrottleHold is how long a domain rests after a 421/454 reply,
	// doubled for each further one up to 20 times (default 30s, max 10m).
	ThrottleHold time.Duration

	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Location is the zone of the Date header (the configured timezone,
	// so a Kyoto reader sees +0900); nil = time.Local.
	Location *time.Location

	Renderer Renderer
	// Checker, when set, re-checks each claimed batch before sending.
	Checker     Checker
	Bounces     BounceRecorder
	OnIssueDone func(ctx context.Context, issueID int64)
	// OnDelivered, when set, hears the recipients of each committed batch
	// of accepted deliveries (the bounce policy resets their scores).
	OnDelivered func(ctx context.Context, emails []string)
	// Health, when set, stops sending while the database is unhealthy and
	// is told how the mailer's writes went.
	Health Health
}

// Mailer builds and sends mail and runs the outbox. It is safe for
// concurrent use.
type Mailer struct {
	db      *sql.DB
	opt     Options
	log     *slog.Logger
	now     func() time.Time
	dkim    *dkimSigner
	pool    *pool
	limits  *limiter
	metrics *metrics
	meter   *meter // recent sending rate per issue (Progress)
	hdrs    headerCache
	// queueWake tells RunQueue that Enqueue stored a mail.
	queueWake chan struct{}
	// errs logs repeated errors of the loops once per interval.
	errs *errLog
	// pauseLo and pauseHi bound the pauses after a failed write of
	// results (pauseMin, pauseMax; tests shorten them).
	pauseLo, pauseHi time.Duration

	mu     sync.Mutex
	states map[int64]string // issue id → run state, refreshed from the table
}

// New returns a Mailer for db (migrated by store.Open).
func New(db *sql.DB, opt Options) (*Mailer, error) {
	if opt.HeloName == "" {
		opt.HeloName = "localhost"
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 30 * time.Second
	}
	if opt.Workers <= 0 {
		opt.Workers = 16
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 200
	}
	if opt.InFlight <= 0 {
		opt.InFlight = 4 * opt.BatchSize
	}
	if opt.InFlight < opt.BatchSize {
		opt.InFlight = opt.BatchSize
	}
	if opt.MaxRetryAge <= 0 {
		opt.MaxRetryAge = 72 * time.Hour
	}
	if opt.RetryBase <= 0 {
		opt.RetryBase = time.Minute
	}
	if opt.RetryMax <= 0 {
		opt.RetryMax = time.Hour
	}
	if opt.ThrottleHold <= 0 {
		opt.ThrottleHold = 30 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Location == nil {
		opt.Location = time.Local
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m := &Mailer{db: db, opt: opt, log: opt.Logger, now: opt.Now, states: map[int64]string{}, meter: newMeter(),
		queueWake: make(chan struct{}, 1), pauseLo: pauseMin, pauseHi: pauseMax}
	m.errs = newErrLog(m.log, errLogEvery, time.Now) // log pacing is wall time
	if opt.DKIM != nil {
		s, err := newDKIMSigner(opt.DKIM)
		if err != nil {
			return nil, err
		}
		m.dkim = s
	}
	for i, r := range opt.Relays {
		if err := checkRelay(r); err != nil {
			return nil, fmt.Errorf("relay %d: %w", i, err)
		}
	}
	met, err := newMetrics(opt.Registerer)
	if err != nil {
		return nil, err
	}
	m.metrics = met
	if opt.Registerer != nil && db != nil {
		queued := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kawaraban_mailer_queued_mail",
			Help: "System mails (confirmations) waiting in the queue for a relay.",
		}, func() float64 {
			// A scrape carries no context; a busy database must not hold it.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, _ := m.QueueLength(ctx)
			return float64(n)
		})
		if _, err := register(opt.Registerer, prometheus.Collector(queued)); err != nil {
			return nil, err
		}
	}
	m.pool = newPool(opt.Relays, opt.HeloName, opt.Timeout, m.log)
	if opt.Registerer != nil {
		for _, rp := range m.pool.relays {
			resting := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name:        "kawaraban_mailer_relay_resting_seconds",
				Help:        "Seconds until a relay that asked us to slow down (421) takes mail again; 0 when it takes mail.",
				ConstLabels: prometheus.Labels{"relay": rp.name},
			}, func() float64 {
				rp.mu.Lock()
				defer rp.mu.Unlock()
				return max(time.Until(rp.holdUntil).Seconds(), 0)
			})
			if _, err := register(opt.Registerer, prometheus.Collector(resting)); err != nil {
				return nil, err
			}
		}
	}
	m.limits = newLimiter(opt.GlobalPerSecond, mergeLimits(opt.DomainLimits))
	m.limits.hold = opt.ThrottleHold
	return m, nil
}

func checkRelay(r Relay) error {
	switch {
	case r.Host == "":
		return errors.New("host is empty")
	case r.Port <= 0 || r.Port > 65535:
		return fmt.Errorf("port %d out of range", r.Port)
	}
	switch strings.ToLower(r.TLS) {
	case "", TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return fmt.Errorf("tls %q is not none, starttls or tls", r.TLS)
	}
	return nil
}

// Close closes pooled SMTP connections.
func (m *Mailer) Close() error {
	m.pool.closeAll()
	return nil
}
