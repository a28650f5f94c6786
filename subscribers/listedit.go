package subscribers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrListClosed: a list an admin closed takes no new subscribers (the
// subscribe form, the API, imports, empty mail and confirmation links
// alike). Its subscribers keep receiving its issues; its archive stays.
var ErrListClosed = errors.New("list is closed to new subscribers")

// Lists created and edited by admins (issue 17). The rules:
//   - every field is checked strictly (checkList), the law's footer
//     fields (from_name, postal_address, contact) are required;
//   - a field an edit changes belongs to the UI from then on: SyncLists no
//     longer applies the configuration's value to it (UIFields);
//   - a list created here has every field owned by the UI;
//   - the slug never changes (links, join addresses and the archive use it);
//   - closing stops new subscriptions only (ErrListClosed); issues may
//     still be sent to the confirmed subscribers, so a last issue can say
//     goodbye. Staff who want no more mail simply send none.

// CreateList stores a new list defined in the admin UI or the API. It
// returns the stored list, or a *ListError naming each bad field
// (ProblemTaken when the slug exists).
func (s *Store) CreateList(ctx context.Context, l List) (List, error) {
	n, err := checkList(l)
	var le *ListError
	if err != nil && !errors.As(err, &le) {
		return List{}, err
	}
	if _, err := s.ListBySlug(ctx, l.Slug); err == nil {
		if le == nil {
			le = &ListError{Slug: l.Slug}
		}
		le.Problems = append([]ListProblem{{Field: "slug", Code: ProblemTaken}}, le.Problems...)
	} else if !errors.Is(err, ErrNotFound) {
		return List{}, err
	}
	if le != nil {
		return List{}, le
	}
	n.UIFields = owned(nil, ListFieldKeys())
	now := s.now().Unix()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
INSERT INTO lists (slug, name_ja, name_en, kind, from_address, from_name, postal_address, contact,
  double_opt_in, allowed_domains, encoding, name_fallback, require_approval, description_ja, description_en,
  archive, ui_fields, count_clicks, created, updated)
VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			n.Slug, n.NameJA, n.NameEN, n.Kind, n.FromAddress, n.FromName, n.PostalAddress, n.Contact,
			n.DoubleOptIn, strings.Join(n.AllowedDomains, ","), n.Encoding, n.NameFallback, n.RequireApproval,
			n.DescriptionJA, n.DescriptionEN, !n.ArchiveOff, strings.Join(n.UIFields, ","), n.CountClicks, now, now)
		return err
	})
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
		// Created meanwhile by someone else.
		return List{}, &ListError{Slug: l.Slug, Problems: []ListProblem{{Field: "slug", Code: ProblemTaken}}}
	}
	if err != nil {
		return List{}, fmt.Errorf("creating list %s: %w", l.Slug, err)
	}
	s.log.Info("list created", "list", n.Slug)
	return s.ListBySlug(ctx, n.Slug)
}

// UpdateList replaces the editable fields of the list with slug by those
// of l (slug, ID, ClosedAt and UIFields of l are ignored). It returns the
// stored list and the keys of the fields that changed, which from then on
// belong to the UI. ErrNotFound for no such list; a *ListError for bad
// fields, and then nothing changes.
func (s *Store) UpdateList(ctx context.Context, slug string, l List) (List, []string, error) {
	var changed []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := listBy(ctx, tx, "slug", slug)
		if err != nil {
			return err
		}
		l.Slug = old.Slug
		n, err := checkList(l)
		if err != nil {
			return err
		}
		if changed = changedFields(old, n); len(changed) == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `
UPDATE lists SET name_ja=?, name_en=?, kind=?, from_address=?, from_name=?, postal_address=?, contact=?,
  double_opt_in=?, allowed_domains=?, encoding=?, name_fallback=?, require_approval=?, description_ja=?,
  description_en=?, archive=?, ui_fields=?, count_clicks=?, updated=?
WHERE id = ?`,
			n.NameJA, n.NameEN, n.Kind, n.FromAddress, n.FromName, n.PostalAddress, n.Contact,
			n.DoubleOptIn, strings.Join(n.AllowedDomains, ","), n.Encoding, n.NameFallback, n.RequireApproval,
			n.DescriptionJA, n.DescriptionEN, !n.ArchiveOff, strings.Join(owned(old.UIFields, changed), ","),
			n.CountClicks, s.now().Unix(), old.ID)
		if err != nil {
			return fmt.Errorf("updating list %s: %w", slug, err)
		}
		return nil
	})
	if err != nil {
		return List{}, nil, err
	}
	if len(changed) > 0 {
		s.log.Info("list updated", "list", slug, "fields", strings.Join(changed, ","))
	}
	l, err = s.ListBySlug(ctx, slug)
	return l, changed, err
}

// CloseList closes the list with slug to new subscribers (see
// ErrListClosed). It reports whether the list was open until now;
// closing a closed list changes nothing.
func (s *Store) CloseList(ctx context.Context, slug string) (List, bool, error) {
	return s.setClosed(ctx, slug, true)
}

// ReopenList opens a closed list to new subscribers again. It reports
// whether the list was closed until now.
func (s *Store) ReopenList(ctx context.Context, slug string) (List, bool, error) {
	return s.setClosed(ctx, slug, false)
}

func (s *Store) setClosed(ctx context.Context, slug string, closed bool) (List, bool, error) {
	if _, err := s.ListBySlug(ctx, slug); err != nil {
		return List{}, false, err
	}
	now := s.now().Unix()
	var res sql.Result
	var err error
	if closed {
		res, err = s.db.ExecContext(ctx, `UPDATE lists SET closed_at = ?, updated = ? WHERE slug = ? AND closed_at IS NULL`, now, now, slug)
	} else {
		res, err = s.db.ExecContext(ctx, `UPDATE lists SET closed_at = NULL, updated = ? WHERE slug = ? AND closed_at IS NOT NULL`, now, slug)
	}
	if err != nil {
		return List{}, false, fmt.Errorf("setting list %s closed=%t: %w", slug, closed, err)
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		s.log.Info("list open state changed", "list", slug, "closed", closed)
	}
	l, err := s.ListBySlug(ctx, slug)
	return l, n > 0, err
}

// checkOpen refuses a closed list with ErrListClosed.
func (l List) checkOpen() error {
	if l.Closed() {
		return fmt.Errorf("list %s: %w", l.Slug, ErrListClosed)
	}
	return nil
}

// ReleaseListFields hands fields (config key names) of the list with slug
// back to the configuration: they are no longer UI-owned, and the next
// SyncLists (the next start) sets them from the config file again. It
// returns the list and the fields that were released (those that were
// UI-owned). A name that is not a config field gives a *ListError.
func (s *Store) ReleaseListFields(ctx context.Context, slug string, fields []string) (List, []string, error) {
	var released []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		l, err := listBy(ctx, tx, "slug", slug)
		if err != nil {
			return err
		}
		le := &ListError{Slug: slug}
		for _, f := range fields {
			if !isConfigField(f) {
				le.Problems = append(le.Problems, ListProblem{Field: f, Code: ProblemNotConfig})
			}
		}
		if len(le.Problems) > 0 {
			return le
		}
		var keep []string
		for _, f := range l.UIFields {
			if slices.Contains(fields, f) {
				released = append(released, f)
			} else {
				keep = append(keep, f)
			}
		}
		if len(released) == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE lists SET ui_fields = ?, updated = ? WHERE id = ?`,
			strings.Join(keep, ","), s.now().Unix(), l.ID)
		return err
	})
	if err != nil {
		return List{}, nil, fmt.Errorf("releasing fields of list %s: %w", slug, err)
	}
	l, err := s.ListBySlug(ctx, slug)
	return l, released, err
}

func isConfigField(key string) bool {
	return slices.ContainsFunc(configFields, func(f listField) bool { return f.key == key })
}
