// Package progress keeps the progress management of the Citizen
// Participation Promotion Plan (計画の進捗管理, 施策番号 35): the plan's
// measures and projects, the bureaus' contacts, reporting deadlines and who
// has submitted for them, the reminder rules, and the log of reminders sent.
//
// It imports the progress file (DESIGN.md "Progress file"), runs the
// reminder job (before the due date, on it, and every few days after, with
// escalation to the coordinator), sends a weekly digest, keeps the
// bureaus' reports (each save a revision; saving one records the
// submission) made through signed links or by an administrator, publishes
// them after the coordinator's review and drafts a newsletter issue from
// them, serves a per-bureau iCalendar feed (RFC 5545) and exports CSVs of
// the status and the reports.
//
// It leaves to others: the HTTP pages (web calls Store's methods), the
// daemon's YAML config and the schedule (cmd and scheduler), and sending
// mail over SMTP (the Sender interface, satisfied by a value cmd passes).
//
// Dates: a due date and the days of reminders are calendar dates in
// Options.Location (Asia/Tokyo by default). "7 days before" means the date
// seven calendar days earlier, whatever the hour of the run.
package progress

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"strings"
	"time"

	"kawaraban/token"
)

// Errors callers branch on with errors.Is.
var (
	// ErrNotFound reports an unknown deadline, bureau or pairing of both.
	ErrNotFound = errors.New("not found")
	// ErrInvalidToken reports a submitted or calendar link whose token is
	// malformed, forged or expired.
	ErrInvalidToken = errors.New("invalid or expired link")
	// ErrInvalidFile reports a progress file that was refused; the joined
	// *ImportError values say which key on which line.
	ErrInvalidFile = errors.New("invalid progress file")
	// ErrNoSigner reports a call that needs Options.Signer without one.
	ErrNoSigner = errors.New("progress: no token signer configured")
	// ErrNoSender reports a call that needs Options.Sender without one.
	ErrNoSender = errors.New("progress: no mail sender configured")
)

// Token purposes (see docs/DEVELOPING.md "Tokens").
const (
	PurposeSubmitted = "submitted"
	PurposeICS       = "ics"
)

// Mail is one system mail for the Sender to deliver.
type Mail struct {
	To, ToName string
	// Cc is an optional comma-separated list of addresses.
	Cc      string
	Subject string
	Text    string
	// HTML is optional; reminders are text only.
	HTML string
	// AutoSubmitted asks for "Auto-Submitted: auto-generated" (RFC 3834
	// section 5); always true for reminders and digests.
	AutoSubmitted bool
	// Headers are extra header fields, name and value.
	Headers [][2]string
}

// Sender delivers system mail; the mailer satisfies it (cmd wires it).
type Sender interface {
	SendSystem(ctx context.Context, m Mail) error
}

// Options configures a Store. The zero value is usable for everything
// except mail (needs Sender) and links (need Signer and BaseURL).
type Options struct {
	// Now is the wall clock (nil = time.Now). RunReminders and SendDigest
	// take the time of the run as an argument instead.
	Now func() time.Time
	// Location is where due dates are dates (nil = Asia/Tokyo).
	Location *time.Location
	// Logger receives the package's logs (nil = discard).
	Logger *slog.Logger
	// Signer signs the "submitted" and "ics" tokens.
	Signer *token.Signer
	// BaseURL is the public root of the web UI, e.g. https://mail.example.jp.
	BaseURL string
	// Sender delivers reminders and digests.
	Sender Sender
	// FromAddress and FromName identify the sender: FromName signs the
	// mails' text; the Sender sets the From field itself.
	FromAddress, FromName string
	// MaxAttempts is how many times a reminder is tried before it is marked
	// failed (default 5).
	MaxAttempts int
}

// Store is the progress module over one database.
type Store struct {
	db  *sql.DB
	opt Options
	log *slog.Logger
	loc *time.Location

	tmpl    mailTemplates
	tmplErr error
}

// New returns a Store on db, which store.Open has migrated.
func New(db *sql.DB, opt Options) *Store {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 5
	}
	loc := opt.Location
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation("Asia/Tokyo"); err != nil {
			// Without tzdata Japan has had no DST since 1951: a fixed zone is exact.
			loc = time.FixedZone("JST", 9*60*60)
		}
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	opt.BaseURL = strings.TrimRight(opt.BaseURL, "/")
	tmpl, err := parseTemplates()
	return &Store{db: db, opt: opt, log: log, loc: loc, tmpl: tmpl, tmplErr: err}
}
