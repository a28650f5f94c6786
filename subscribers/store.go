// Package subscribers owns who receives kawaraban's mail and why: the lists
// (mail magazines and internal newsletters), subscribers, their subscriptions,
// suppressions, and the append-only consent log that the 特定電子メール法
// asks a sender to keep. It normalises and checks e-mail addresses, runs
// double opt-in with signed, expiring confirmation tokens, one-click and
// mailto unsubscribes, preference changes, CSV import and export, and hands
// the sending side a stream of eligible recipients.
//
// It leaves to others: HTTP pages and rate limits per IP (web), composing
// and sending the confirmation mail (a Confirmer that cmd supplies, usually
// built from templates and mailer), bounce classification (bounces, which
// calls Suppress and UnsubscribeAll through its own interface), and reading
// the configuration (cmd, which calls SyncLists).
//
// Enumeration safety: Subscribe gives the same answer whether an address is
// new, unconfirmed, confirmed or suppressed. What differs is only whether a
// confirmation mail goes out: an address already confirmed on every list it
// asks for gets no mail (there is nothing to confirm), an address suppressed
// by hand ("manual") gets none either, and any address gets at most
// Options.MaxConfirmationsPerAddressPerDay confirmation mails a day.
package subscribers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"kawaraban/token"
)

// Token purposes used by this package.
const (
	PurposeConfirm     = "confirm"
	PurposeUnsubscribe = "unsubscribe"
	PurposePrefs       = "prefs"
)

// ConfirmTTL is how long a confirmation link stays valid.
const ConfirmTTL = 7 * 24 * time.Hour

// Errors callers branch on with errors.Is.
var (
	// ErrNotFound: no such list or subscriber.
	ErrNotFound = errors.New("not found")
	// ErrUnknownList: a list slug that does not exist, or that the caller
	// may not choose (internal lists on the public form).
	ErrUnknownList = errors.New("unknown list")
	// ErrBadStatus: a search by a status that does not exist, or by a
	// status without a list.
	ErrBadStatus = errors.New("unknown subscription status")
	// ErrNoList: a subscribe request that names no list.
	ErrNoList = errors.New("no list chosen")
	// ErrDomainNotAllowed: an address outside an internal list's allowed domains.
	ErrDomainNotAllowed = errors.New("address domain is not allowed on this list")
	// ErrBadToken: a token that is malformed or whose signature does not match.
	ErrBadToken = errors.New("invalid link")
	// ErrExpiredToken: a confirmation link older than ConfirmTTL.
	ErrExpiredToken = errors.New("link has expired")
	// ErrSupersededToken: a confirmation link issued before the address
	// last left the lists it names; following it would undo an opt-out.
	ErrSupersededToken = errors.New("link was issued before a later unsubscription")
	// ErrBadSource: a consent source or suppression reason this package does not know.
	ErrBadSource = errors.New("unknown source")
	// ErrConsentSourceRequired: importing into a public list without saying
	// where the consent came from.
	ErrConsentSourceRequired = errors.New("importing into a public list needs a consent source")
	// ErrBadCSV: a CSV file that cannot be imported at all (no header, no email column).
	ErrBadCSV = errors.New("bad CSV file")
	// ErrBadList: a list definition that SyncLists refuses.
	ErrBadList = errors.New("bad list definition")
	// ErrNoSigner: a token operation on a Store built without Options.Signer.
	ErrNoSigner = errors.New("no token signer configured")
)

// Consent sources, as recorded in the consent log.
const (
	SourceWeb       = "web"
	SourceEmptyMail = "empty-mail"
	SourceImport    = "import"
	SourceAdmin     = "admin"
	SourceAPI       = "api"
	SourceOneClick  = "one-click"
	SourceMailto    = "mailto"
	SourcePrefs     = "prefs"
	// SourceComplaint marks an opt-out caused by a spam complaint (ARF report).
	SourceComplaint = "complaint"
)

var validSources = map[string]bool{
	SourceWeb: true, SourceEmptyMail: true, SourceImport: true, SourceAdmin: true, SourceAPI: true,
	SourceOneClick: true, SourceMailto: true, SourcePrefs: true, SourceComplaint: true,
}

// Options configures a Store. The zero value works for everything except
// the token methods, which need Signer.
type Options struct {
	// Now is the clock (nil = time.Now).
	Now func() time.Time
	// Logger receives operational logs (nil = discard). Subscriber ids are
	// logged, never addresses.
	Logger *slog.Logger
	// Signer signs confirmation, unsubscribe and preference tokens.
	Signer *token.Signer
	// BaseURL is the public site's root, e.g. https://mail.city.example.jp
	// (no trailing slash needed); links are BaseURL + /confirm/TOKEN etc.
	BaseURL string
	// Confirmer sends confirmation mails (nil = none are sent; the request
	// is still recorded).
	Confirmer Confirmer
	// MaxConfirmationsPerAddressPerDay caps confirmation mails to one
	// address in any 24 hours (default 3).
	MaxConfirmationsPerAddressPerDay int
	// ConsentRetention is how long consent events are kept (0 = forever).
	ConsentRetention time.Duration
	// Location is the time zone for exported times and daily growth
	// (nil = UTC).
	Location *time.Location
}

// Store reads and writes the subscribers tables.
type Store struct {
	db  *sql.DB
	opt Options
	log *slog.Logger
	// importPause is the first pause before a failed import batch is
	// tried again (importPauseFirst; tests shorten it).
	importPause time.Duration
	// supp keeps the suppressed subscriptions' counts (counts.go).
	supp *suppressedCache
}

// New returns a Store on db, which store.Open has migrated.
func New(db *sql.DB, opt Options) *Store {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opt.MaxConfirmationsPerAddressPerDay <= 0 {
		opt.MaxConfirmationsPerAddressPerDay = 3
	}
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	for len(opt.BaseURL) > 0 && opt.BaseURL[len(opt.BaseURL)-1] == '/' {
		opt.BaseURL = opt.BaseURL[:len(opt.BaseURL)-1]
	}
	return &Store{db: db, opt: opt, log: opt.Logger, supp: &suppressedCache{}}
}

func (s *Store) now() time.Time { return s.opt.Now() }

// Evidence is what a consent event records about how it came: the client's
// IP and user agent for web requests, the inbound Message-ID for mail, the
// acting user for admin and API changes.
type Evidence struct {
	IP, UserAgent, MessageID, Actor string
}

// queryer is what *sql.DB and *sql.Tx share.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inTx runs fn in a write transaction and commits it when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

func checkSource(src string) error {
	if !validSources[src] {
		return fmt.Errorf("consent source %q: %w", src, ErrBadSource)
	}
	return nil
}

func unixOrZero(v sql.NullInt64, loc *time.Location) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.Unix(v.Int64, 0).In(loc)
}
