package bounces

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kawaraban/bounces/classify"
	"kawaraban/token"
)

// Errors callers branch on.
var (
	// ErrNotFound reports an unknown bounce id.
	ErrNotFound = errors.New("bounce not found")
	// ErrInsecure reports a plain-text IMAP connection to a host that is
	// not on loopback.
	ErrInsecure = errors.New("imap: plain connection allowed only on loopback")
	// ErrNotUnverified reports a Verify of a bounce that was not recorded
	// as unverified.
	ErrNotUnverified = errors.New("bounce is not unverified")
	// ErrNoIMAP reports a Service built without an IMAP address.
	ErrNoIMAP = errors.New("imap: no server address configured")
)

// Suppression reasons passed to Suppressor.Suppress: the reasons package
// subscribers knows. A suppression after repeated soft bounces is also a
// bounce suppression (ReasonHardBounce); its detail says it was soft.
const (
	ReasonHardBounce = "hard-bounce"
	ReasonComplaint  = "complaint"
)

// MaxApplyAttempts is how many polls retry the side effects of a bounce
// (suppression, marking the delivery) before giving up on them, so that
// one bad record cannot stop the mailbox. The failure stays with the bounce.
const MaxApplyAttempts = 3

// Delivery is the part of a mailer delivery that bounces needs.
type Delivery struct {
	ID, IssueID, SubscriberID int64
	// ListID is the list of the delivery's issue, recorded with the
	// bounce so that a list's bounces are selected in SQL.
	ListID int64
	Email  string
}

// VERP decodes a VERP return-path address (bounces+TOKEN@domain) into the
// delivery it was made for. The mailer satisfies it.
type VERP interface {
	ParseVERP(addr string) (deliveryID int64, ok bool)
}

// DeliveryLookup finds deliveries by the Message-ID they were sent with or
// by id. The mailer satisfies it.
type DeliveryLookup interface {
	ByMessageID(ctx context.Context, msgID string) (Delivery, bool, error)
	ByID(ctx context.Context, id int64) (Delivery, bool, error)
}

// DeliveryMarker marks a delivery bounced. The mailer satisfies it.
type DeliveryMarker interface {
	MarkBounced(ctx context.Context, deliveryID int64) error
}

// Evidence is what a bounce-driven unsubscription records in the consent
// log: the inbound Message-ID and what the report said.
type Evidence struct {
	MessageID    string // the complaint's own Message-ID
	FeedbackType string // RFC 5965 Feedback-Type, e.g. "abuse"
	Detail       string // the rule that acted, in words
}

// Suppressor suppresses and unsuppresses addresses and unsubscribes them
// from every list. Package subscribers satisfies it (through cmd).
type Suppressor interface {
	Suppress(ctx context.Context, email, reason, detail string) error
	Unsuppress(ctx context.Context, email, actor string) error
	UnsubscribeAll(ctx context.Context, email, source string, ev Evidence) error
}

// Joiner starts a subscription for an address that mailed a join address;
// it sends the confirmation mail (a From header can be forged).
type Joiner interface {
	SubscribeByMail(ctx context.Context, email, listSlug, messageID string) error
}

// Unsubscriber unsubscribes the address an unsubscribe token names.
type Unsubscriber interface {
	UnsubscribeByToken(ctx context.Context, tok, source, messageID string) error
}

// Erasures says whether an address a report names was erased at its
// owner's request (a deletion request) and has not come back since; key
// is the keyed hash that stands for it ("erased:" and an HMAC, the form
// the consent log and suppressions keep). Such a report is recorded under
// key, without the copy of the message or its diagnostic, and changes
// nothing (erased.go). The application layer satisfies it by asking
// package subscribers, which owns erasures.
type Erasures interface {
	StillErased(ctx context.Context, email string) (key string, erased bool, err error)
}

// Deps are the values from other packages that a Service calls. A nil
// field disables what it does (the Service logs it once at New).
type Deps struct {
	VERP         VERP
	Deliveries   DeliveryLookup
	Marker       DeliveryMarker
	Suppressor   Suppressor
	Joiner       Joiner
	Unsubscriber Unsubscriber
	// Erasures keeps an erased address out of the bounce records; nil
	// records every address as the report names it.
	Erasures Erasures
}

// TLS modes for IMAPOptions.TLS (config key imap.tls).
const (
	TLSImplicit = "tls"
	TLSStart    = "starttls"
	TLSNone     = "none"
)

// IMAPOptions says where the bounce mailbox is and how to treat its mail.
type IMAPOptions struct {
	Addr      string      // host:port; empty disables the reader
	TLS       string      // tls (default), starttls, or none (loopback only)
	TLSConfig *tls.Config // nil = system roots, ServerName from Addr
	Username  string
	Password  string
	Mailbox   string // default INBOX
	// CommandMailbox is a second mailbox read for join and unsubscribe
	// mail; empty means commands arrive in Mailbox.
	CommandMailbox string
	// ProcessedFolder, when set, receives processed messages by MOVE;
	// otherwise they are flagged ProcessedFlag and \Seen.
	ProcessedFolder string
	// StaffFolder, when set, receives mail that is not ours (a citizen's
	// reply); otherwise such mail is left untouched.
	StaffFolder  string
	PollInterval time.Duration // default 1m; IDLE is used when offered
	FetchBatch   int           // UIDs per FETCH, default 200
	DialTimeout  time.Duration // default 30s
	// RetryMin and RetryMax bound the reconnect backoff of Run (defaults
	// 1 s and 5 min); the wait doubles after each failure.
	RetryMin, RetryMax time.Duration
	// MaxFetchBytes caps what is read of one message (default 2 MiB); the
	// report parts of a bounce come before any large returned message.
	MaxFetchBytes int
}

// ProcessedFlag is the IMAP keyword set on a processed message.
const ProcessedFlag = "$KawarabanProcessed"

// Options tunes a Service. The zero value is the production default.
type Options struct {
	IMAP IMAPOptions
	// Domain is the domain of the return path and of the command
	// addresses (config bounce.return_path_domain).
	Domain string
	// JoinAddress maps an envelope recipient to the list it joins. Nil
	// accepts <slug>-join@Domain and join+<slug>@Domain.
	JoinAddress func(addr string) (listSlug string, ok bool)

	HardThreshold int           // hard bounces before suppression, default 1
	SoftThreshold float64       // soft score that suppresses, default 5 (as bounce.soft_threshold)
	SoftWindow    time.Duration // soft score restarts after this quiet time, default 30 days
	SoftHalfLife  time.Duration // soft score halves in this time, default 15 days
	// SoftPersist suppresses an address whose soft refusals have gone on
	// for this long (at least two, no delivery between, never SoftWindow
	// apart), whatever its score: default 30 days.
	SoftPersist time.Duration
	MaxRawBytes int // raw message kept per bounce, default 256 KiB

	// Signer checks the return path of system mail (SystemReturnPath);
	// nil leaves bounces of system mail unverified.
	Signer *token.Signer

	// Registerer receives the metrics; nil registers nothing.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time
}

func (o *Options) defaults() {
	if o.IMAP.TLS == "" {
		o.IMAP.TLS = TLSImplicit
	}
	if o.IMAP.Mailbox == "" {
		o.IMAP.Mailbox = "INBOX"
	}
	if o.IMAP.PollInterval <= 0 {
		o.IMAP.PollInterval = time.Minute
	}
	if o.IMAP.FetchBatch <= 0 {
		o.IMAP.FetchBatch = 200
	}
	if o.IMAP.RetryMin <= 0 {
		o.IMAP.RetryMin = time.Second
	}
	if o.IMAP.RetryMax < o.IMAP.RetryMin {
		o.IMAP.RetryMax = max(5*time.Minute, o.IMAP.RetryMin)
	}
	if o.IMAP.MaxFetchBytes <= 0 {
		o.IMAP.MaxFetchBytes = 2 << 20
	}
	if o.IMAP.DialTimeout <= 0 {
		o.IMAP.DialTimeout = 30 * time.Second
	}
	if o.HardThreshold <= 0 {
		o.HardThreshold = 1
	}
	if o.SoftThreshold <= 0 {
		o.SoftThreshold = 5
	}
	if o.SoftWindow <= 0 {
		o.SoftWindow = 30 * 24 * time.Hour
	}
	if o.SoftHalfLife <= 0 {
		o.SoftHalfLife = 15 * 24 * time.Hour
	}
	if o.SoftPersist <= 0 {
		o.SoftPersist = 30 * 24 * time.Hour
	}
	if o.MaxRawBytes <= 0 {
		o.MaxRawBytes = 256 << 10
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Service reads the bounce mailbox, applies the policy and answers the
// admin UI's questions about bounces.
type Service struct {
	db   *sql.DB
	deps Deps
	opt  Options
	log  *slog.Logger

	alerts  prometheus.Counter
	classes *prometheus.CounterVec

	mu   sync.Mutex // guards conn; held for a whole poll
	conn *conn

	idling func() // test hook: called once IDLE runs
}

// New returns a Service over db, which store.Open has migrated.
func New(db *sql.DB, deps Deps, opt Options) (*Service, error) {
	opt.defaults()
	s := &Service{db: db, deps: deps, opt: opt, log: opt.Logger}
	s.alerts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kawaraban_bounce_alerts_total",
		Help: "Bounces that refused us for policy, authentication or reputation (RFC 3463 X.7.X).",
	})
	s.classes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kawaraban_bounces_total",
		Help: "Bounce messages recorded, by class.",
	}, []string{"class"})
	if opt.Registerer != nil {
		for _, c := range []prometheus.Collector{s.alerts, s.classes} {
			if err := opt.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("registering bounce metrics: %w", err)
			}
		}
	}
	for name, missing := range map[string]bool{
		"verp": deps.VERP == nil, "deliveries": deps.Deliveries == nil,
		"marker": deps.Marker == nil, "suppressor": deps.Suppressor == nil,
		"joiner": deps.Joiner == nil, "unsubscriber": deps.Unsubscriber == nil,
		"erasures": deps.Erasures == nil,
	} {
		if missing {
			s.log.Warn("bounces dependency missing", "dep", name)
		}
	}
	return s, nil
}

// classValid reports whether c is one of the six classes.
func classValid(c classify.Class) bool {
	switch c {
	case classify.Hard, classify.Soft, classify.AutoReply, classify.Complaint, classify.Delivered, classify.Other:
		return true
	}
	return false
}
