package subscribers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"golang.org/x/net/idna"
)

// List kinds.
const (
	KindPublic   = "public"
	KindInternal = "internal"
)

// List encodings for outgoing mail.
const (
	EncodingUTF8      = "utf-8"
	EncodingISO2022JP = "iso-2022-jp"
)

// List is a mail magazine or internal newsletter with its sender identity,
// which every mail shows (特定電子メール法: sender name, postal address and
// contact).
type List struct {
	ID                           int64
	Slug, NameJA, NameEN         string
	Kind                         string // KindPublic or KindInternal ("" = public)
	FromAddress, FromName        string
	PostalAddress, Contact       string
	DoubleOptIn                  bool     // public lists: subscribe needs a confirmation mail (cmd defaults it to true)
	AllowedDomains               []string // internal lists: only these domains (and their subdomains); empty = any
	Encoding                     string   // EncodingUTF8 or EncodingISO2022JP ("" = utf-8)
	NameFallback                 string   // shown when a subscriber has no name, e.g. 読者
	RequireApproval              bool     // issues need a second person's approval (used by issues)
	DescriptionJA, DescriptionEN string
	// ArchiveOff hides the list's sent issues from the public archive and
	// its feed (set in the admin UI or the API only; default: shown).
	ArchiveOff bool
	// ClosedAt is when an admin closed the list to new subscribers; zero
	// while it is open (see CloseList).
	ClosedAt time.Time
	// UIFields are the fields (config key names) edited in the admin UI or
	// the API: the configuration no longer changes them (see SyncLists).
	UIFields []string
	// CountClicks rewrites the links of the list's issues through the
	// click redirect, which counts clicks per link and nothing about the
	// reader (package newsletter). Off by default.
	CountClicks bool
}

// Public reports whether citizens may subscribe to l themselves.
func (l List) Public() bool { return l.Kind == KindPublic }

// Closed reports whether l takes no new subscribers.
func (l List) Closed() bool { return !l.ClosedAt.IsZero() }

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// normaliseList applies defaults and checks one definition.
func normaliseList(l List) (List, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("list %q: %s: %w", l.Slug, fmt.Sprintf(format, a...), ErrBadList)
	}
	if !slugRE.MatchString(l.Slug) {
		return l, bad("slug must be lower-case letters, digits and hyphens")
	}
	if l.Kind == "" {
		l.Kind = KindPublic
	}
	if l.Kind != KindPublic && l.Kind != KindInternal {
		return l, bad("kind must be public or internal, not %q", l.Kind)
	}
	if l.Encoding == "" {
		l.Encoding = EncodingUTF8
	}
	l.Encoding = strings.ToLower(l.Encoding)
	if l.Encoding != EncodingUTF8 && l.Encoding != EncodingISO2022JP {
		return l, bad("encoding must be utf-8 or iso-2022-jp, not %q", l.Encoding)
	}
	var doms []string
	for _, d := range l.AllowedDomains {
		a, err := idna.Lookup.ToASCII(strings.ToLower(strings.TrimSpace(d)))
		if err != nil || a == "" || strings.Contains(a, ",") {
			return l, bad("allowed domain %q is not a domain name", d)
		}
		doms = append(doms, a)
	}
	l.AllowedDomains = doms
	return l, nil
}

const listColumns = `id, slug, name_ja, name_en, kind, from_address, from_name, postal_address, contact,
  double_opt_in, allowed_domains, encoding, name_fallback, require_approval, description_ja, description_en,
  archive, closed_at, ui_fields, count_clicks`

func scanList(sc interface{ Scan(...any) error }) (List, error) {
	var l List
	var doms, ui string
	var archive bool
	var closed sql.NullInt64
	err := sc.Scan(&l.ID, &l.Slug, &l.NameJA, &l.NameEN, &l.Kind, &l.FromAddress, &l.FromName, &l.PostalAddress,
		&l.Contact, &l.DoubleOptIn, &doms, &l.Encoding, &l.NameFallback, &l.RequireApproval, &l.DescriptionJA, &l.DescriptionEN,
		&archive, &closed, &ui, &l.CountClicks)
	if doms != "" {
		l.AllowedDomains = strings.Split(doms, ",")
	}
	if ui != "" {
		l.UIFields = strings.Split(ui, ",")
	}
	l.ArchiveOff = !archive
	if closed.Valid {
		l.ClosedAt = time.Unix(closed.Int64, 0).UTC()
	}
	return l, err
}

// Lists returns every list, in the order they were first created.
func (s *Store) Lists(ctx context.Context) ([]List, error) {
	return s.lists(ctx, s.db)
}

func (s *Store) lists(ctx context.Context, q queryer) ([]List, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+listColumns+` FROM lists ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("loading lists: %w", err)
	}
	defer rows.Close()
	var out []List
	for rows.Next() {
		l, err := scanList(rows)
		if err != nil {
			return nil, fmt.Errorf("loading lists: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("loading lists: %w", err)
	}
	return out, nil
}

// ListBySlug returns the list with slug, or ErrNotFound.
func (s *Store) ListBySlug(ctx context.Context, slug string) (List, error) {
	return listBy(ctx, s.db, "slug", slug)
}

// ListByID returns the list with id, or ErrNotFound.
func (s *Store) ListByID(ctx context.Context, id int64) (List, error) {
	return listBy(ctx, s.db, "id", id)
}

func listBy(ctx context.Context, q queryer, col string, v any) (List, error) {
	l, err := scanList(q.QueryRowContext(ctx, `SELECT `+listColumns+` FROM lists WHERE `+col+` = ?`, v))
	if errors.Is(err, sql.ErrNoRows) {
		return List{}, fmt.Errorf("list %v: %w", v, ErrNotFound)
	}
	if err != nil {
		return List{}, fmt.Errorf("loading list %v: %w", v, err)
	}
	return l, nil
}

// allows reports whether an address in domain may join l.
func (l List) allows(domain string) bool {
	if len(l.AllowedDomains) == 0 {
		return true
	}
	for _, d := range l.AllowedDomains {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return true
		}
	}
	return false
}

func (l List) checkDomain(a Address) error {
	if l.allows(a.Domain) {
		return nil
	}
	return fmt.Errorf("list %s accepts only addresses at %s, not at %s: %w",
		l.Slug, strings.Join(l.AllowedDomains, ", "), a.Domain, ErrDomainNotAllowed)
}
