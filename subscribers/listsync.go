package subscribers

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// SyncLists applies the configuration's lists at start; every command
// runs it. The precedence rule (docs/OPERATING.md, "Lists"):
//   - a slug not in the database is created from the configuration (the
//     first start seeds the database);
//   - for a slug in the database, each configured field is applied unless
//     an admin has edited that field in the UI or the API (List.UIFields):
//     such a field keeps its edited value, whatever the configuration says;
//   - lists missing from defs are left as they are (a list created in the
//     UI, or one dropped from the file); nothing is deleted, subscribers
//     are never touched, and the UI-only state (archive, closed) is kept.
//
// It writes nothing, and takes no write lock, when nothing would change.
func (s *Store) SyncLists(ctx context.Context, defs []List) error {
	plan, err := s.syncPlan(ctx, defs)
	if err != nil || len(plan) == 0 {
		return err
	}
	now := s.now().Unix()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, l := range plan {
			_, err := tx.ExecContext(ctx, `
INSERT INTO lists (slug, name_ja, name_en, kind, from_address, from_name, postal_address, contact,
  double_opt_in, allowed_domains, encoding, name_fallback, require_approval, description_ja, description_en, count_clicks, created, updated)
VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT (slug) DO UPDATE SET name_ja=excluded.name_ja, name_en=excluded.name_en, kind=excluded.kind,
  from_address=excluded.from_address, from_name=excluded.from_name, postal_address=excluded.postal_address,
  contact=excluded.contact, double_opt_in=excluded.double_opt_in, allowed_domains=excluded.allowed_domains,
  encoding=excluded.encoding, name_fallback=excluded.name_fallback, require_approval=excluded.require_approval,
  description_ja=excluded.description_ja, description_en=excluded.description_en, count_clicks=excluded.count_clicks,
  updated=excluded.updated`,
				l.Slug, l.NameJA, l.NameEN, l.Kind, l.FromAddress, l.FromName, l.PostalAddress, l.Contact,
				l.DoubleOptIn, strings.Join(l.AllowedDomains, ","), l.Encoding, l.NameFallback, l.RequireApproval,
				l.DescriptionJA, l.DescriptionEN, l.CountClicks, now, now)
			if err != nil {
				return fmt.Errorf("saving list %s: %w", l.Slug, err)
			}
		}
		return nil
	})
}

// listsBySlug returns the stored lists, in order and by slug.
func (s *Store) listsBySlug(ctx context.Context) ([]List, map[string]List, error) {
	stored, err := s.Lists(ctx)
	if err != nil {
		return nil, nil, err
	}
	bySlug := make(map[string]List, len(stored))
	for _, l := range stored {
		bySlug[l.Slug] = l
	}
	return stored, bySlug, nil
}

// syncPlan returns the lists SyncLists must write: new slugs as
// configured, known ones merged by the precedence rule, and only those
// whose stored fields would change.
func (s *Store) syncPlan(ctx context.Context, defs []List) ([]List, error) {
	_, bySlug, err := s.listsBySlug(ctx)
	if err != nil {
		return nil, err
	}
	var plan []List
	for _, d := range defs {
		n, err := normaliseList(d)
		if err != nil {
			return nil, err
		}
		old, ok := bySlug[n.Slug]
		if !ok {
			plan = append(plan, n)
			continue
		}
		if merged := mergeConfig(old, n); len(changedFields(old, merged)) > 0 {
			plan = append(plan, merged)
		}
	}
	return plan, nil
}

// mergeConfig applies the configured fields of def to stored, except the
// fields edited in the UI.
func mergeConfig(stored, def List) List {
	out := stored
	for _, f := range configFields {
		if !stored.EditedInUI(f.key) {
			f.copy(&out, def)
		}
	}
	return out
}

// ListDrift is one difference between the configuration and the database
// (kawaraban check-config prints them).
type ListDrift struct {
	Slug string
	// Field is the config key; "" when the whole list differs (Missing or
	// NotInConfig).
	Field            string
	Config, Database string
	// EditedInUI: the field was edited in the admin UI or the API and
	// keeps the database's value; otherwise the next start applies the
	// configuration's.
	EditedInUI bool
	// Missing: the list is not in the database yet; the next start creates it.
	Missing bool
	// NotInConfig: the list is only in the database (created in the UI,
	// or removed from the file); it stays as it is.
	NotInConfig bool
}

// ListDrifts compares the configuration's lists with the database, field
// by field, in the configuration's order, then the lists only in the
// database. It changes nothing.
func (s *Store) ListDrifts(ctx context.Context, defs []List) ([]ListDrift, error) {
	stored, bySlug, err := s.listsBySlug(ctx)
	if err != nil {
		return nil, err
	}
	var out []ListDrift
	inConfig := map[string]bool{}
	for _, d := range defs {
		n, err := normaliseList(d)
		if err != nil {
			return nil, err
		}
		inConfig[n.Slug] = true
		old, ok := bySlug[n.Slug]
		if !ok {
			out = append(out, ListDrift{Slug: n.Slug, Missing: true})
			continue
		}
		for _, f := range configFields {
			if c, db := f.get(n), f.get(old); c != db {
				out = append(out, ListDrift{Slug: n.Slug, Field: f.key, Config: c, Database: db, EditedInUI: old.EditedInUI(f.key)})
			}
		}
	}
	for _, l := range stored {
		if !inConfig[l.Slug] {
			out = append(out, ListDrift{Slug: l.Slug, NotInConfig: true})
		}
	}
	return out, nil
}
