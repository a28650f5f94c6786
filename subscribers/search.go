package subscribers

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SearchQuery selects subscribers for the admin UI.
type SearchQuery struct {
	// ListSlug limits the search to one list's subscriptions ("" = every
	// subscriber, without a status).
	ListSlug string
	// Text matches the start of the address or of the name, ignoring
	// ASCII case (both are indexed, so a search stays fast on a large
	// list; a match in the middle of an address is not found).
	Text string
	// Status keeps the subscriptions with this status as exports show it
	// (unconfirmed, confirmed, unsubscribed or suppressed); "" keeps all.
	// It needs ListSlug.
	Status string
	// After pages by key: only subscribers with an ID below After (the
	// last ID of the previous page, as results are newest first). It
	// costs the same on every page, where Page costs more the deeper it
	// goes; 0 uses Page.
	After int64
	// Before pages back by key: the page of subscribers just newer than
	// Before (the first ID of the current page). Used when After is 0.
	Before int64
	// Page counts from 1; PerPage defaults to 50 (at most 500).
	Page, PerPage int
	// SkipTotal leaves the total at 0 instead of counting every match.
	SkipTotal bool
	// ListSlugs, when ListSlug is "", searches the subscriptions of each
	// of these lists (an editor's "all my lists" view): a subscriber on
	// several of them is one row per list, with that list's status. Such
	// a search pages by key only (After, Before), never by Page, and
	// counts no total (Counts sums the kept counts instead).
	ListSlugs []string
	// IDs, when not empty, keeps only these subscribers (a selection made
	// with checkboxes; at most MaxSelectedIDs).
	IDs []int64

	// batch lets a bulk action read pages larger than 500.
	batch int
	// broad: the text matches so many subscribers that walking the
	// list in order and testing each is cheaper (broadMatches).
	broad bool
}

// broadMatches is where a search stops finding its matches through the
// address and name indexes (which must then join and sort every match:
// 4 s for the prefix "user" at 1M) and walks the list newest first,
// testing each subscriber, instead: with this many matches among all
// subscribers a page of 50 is near, and with fewer the index is cheap.
const broadMatches = 10_000

// MaxOffset bounds how deep Page may go: skipping rows costs time in
// proportion to the offset (about 25 ms at 900,000 on a quiet machine,
// four times that under load), so deeper pages are refused with
// ErrDeepOffset and read by key (After) instead, which costs the same on
// every page (issue 19).
const MaxOffset = 100_000

// MaxSelectedIDs bounds SearchQuery.IDs and Selection.IDs: a page of
// checkboxes, not a list.
const MaxSelectedIDs = 1000

// SubscriberRow is one search result.
type SubscriberRow struct {
	SubscriberID int64
	Email, Name  string
	Created      time.Time
	// Status on the searched list (with suppression applied as in
	// exports); "" when no list was given.
	Status       string
	SubscribedAt time.Time
	ConfirmedAt  time.Time
	// Suppression is the suppression reason, or "".
	Suppression string
	// ListSlug is the list of Status in a search of several lists
	// (SearchQuery.ListSlugs); "" otherwise.
	ListSlug string
}

// suppressedSQL says whether the address of s is suppressed for list ?1
// (0: everywhere).
const suppressedSQL = `EXISTS (SELECT 1 FROM suppressions x WHERE x.email = s.email COLLATE NOCASE AND x.list_id IN (0, ?1))`

// Search finds subscribers, newest first, and returns one page of them
// with the total number of matches (0 with SkipTotal).
func (s *Store) Search(ctx context.Context, q SearchQuery) ([]SubscriberRow, int, error) {
	if q.PerPage <= 0 {
		q.PerPage = 50
	}
	q.PerPage = min(q.PerPage, max(500, q.batch))
	q.Page = max(q.Page, 1)
	if q.After <= 0 && q.Before <= 0 && (q.Page-1)*q.PerPage > MaxOffset {
		return nil, 0, fmt.Errorf("searching subscribers: offset %d: %w", (q.Page-1)*q.PerPage, ErrDeepOffset)
	}
	if len(q.IDs) > MaxSelectedIDs {
		return nil, 0, fmt.Errorf("searching subscribers: %d ids: %w", len(q.IDs), ErrTooManyIDs)
	}
	if q.ListSlug == "" && len(q.ListSlugs) > 0 {
		return s.searchLists(ctx, q)
	}
	var listID int64
	if q.ListSlug != "" {
		l, err := s.ListBySlug(ctx, q.ListSlug)
		if err != nil {
			return nil, 0, err
		}
		listID = l.ID
	}
	if err := s.judgeBroad(ctx, listID, &q); err != nil {
		return nil, 0, err
	}
	cond, args, err := searchCond(listID, q)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if !q.SkipTotal {
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) `+cond, args...).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("searching subscribers: %w", err)
		}
	}
	// Ordering by the subscription's own key lets SQLite walk the list's
	// index and stop after one page.
	order := `s.id`
	if listID != 0 {
		order = `p.subscriber_id`
	}
	page, offset, dir := cond, (q.Page-1)*q.PerPage, "DESC"
	switch {
	case q.After > 0:
		page, offset = cond+` AND s.id < ?`, 0
		args = append(args, q.After)
	case q.Before > 0:
		// The page before: the nearest newer ones, read upwards and
		// turned round below.
		page, offset, dir = cond+` AND s.id > ?`, 0, "ASC"
		args = append(args, q.Before)
	case offset > 0 && listID != 0 && q.Status == "" && strings.TrimSpace(q.Text) == "" && len(q.IDs) == 0:
		// A deep offset skips entries of the list's covering index only,
		// not joined rows: about five times faster at 900,000.
		page = cond + ` AND p.subscriber_id IN (SELECT subscriber_id FROM subscriptions INDEXED BY subscriptions_by_subscriber
  WHERE list_id = ?1 ORDER BY subscriber_id DESC LIMIT ? OFFSET ?)`
		args = append(args, q.PerPage, offset)
		offset = 0
	}
	rows, err := s.db.QueryContext(ctx, `SELECT s.id, s.email, s.name, s.created, coalesce(p.status, ''), p.requested_at, p.confirmed_at,
  coalesce((SELECT reason FROM suppressions x WHERE x.email = s.email COLLATE NOCASE AND x.list_id IN (0, ?1) LIMIT 1), '') `+
		page+` ORDER BY `+order+` `+dir+` LIMIT ? OFFSET ?`, append(args, q.PerPage, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("searching subscribers: %w", err)
	}
	defer rows.Close()
	var out []SubscriberRow
	for rows.Next() {
		var r SubscriberRow
		var created int64
		var req, conf sql.NullInt64
		if err := rows.Scan(&r.SubscriberID, &r.Email, &r.Name, &created, &r.Status, &req, &conf, &r.Suppression); err != nil {
			return nil, 0, fmt.Errorf("searching subscribers: %w", err)
		}
		r.Created = time.Unix(created, 0).In(s.opt.Location)
		r.SubscribedAt = unixOrZero(req, s.opt.Location)
		r.ConfirmedAt = unixOrZero(conf, s.opt.Location)
		if r.Status != "" {
			r.Status = exportStatus(r.Status, r.Suppression)
		}
		out = append(out, r)
	}
	if dir == "ASC" {
		slices.Reverse(out)
	}
	return out, total, rows.Err()
}

// searchCond is the FROM and WHERE of a search; its first argument (?1)
// is the list's ID (0 for none).
func searchCond(listID int64, q SearchQuery) (string, []any, error) {
	text := strings.TrimSpace(q.Text)
	cond := `FROM subscribers s LEFT JOIN subscriptions p ON 0 WHERE ?1 = 0`
	switch {
	case listID != 0 && text != "" && !q.broad:
		// CROSS JOIN makes SQLite find the matches through the address
		// and name indexes first; left to itself it may walk the whole
		// list in order, testing each subscriber.
		cond = `FROM subscribers s CROSS JOIN subscriptions p ON p.list_id = ?1 AND p.subscriber_id = s.id WHERE 1=1`
	case listID != 0:
		cond = `FROM subscriptions p JOIN subscribers s ON s.id = p.subscriber_id WHERE p.list_id = ?1`
	}
	args := []any{listID}
	switch q.Status {
	case "":
	case StatusUnsubscribed:
		cond += ` AND p.status = 'unsubscribed'`
	case StatusConfirmed, StatusUnconfirmed:
		cond += ` AND p.status = ? AND NOT ` + suppressedSQL
		args = append(args, q.Status)
	case StatusSuppressed:
		cond += ` AND p.status IN ('confirmed', 'unconfirmed') AND ` + suppressedSQL
	default:
		return "", nil, fmt.Errorf("searching subscribers: status %q: %w", q.Status, ErrBadStatus)
	}
	if len(q.IDs) > 0 {
		col := "s.id"
		if listID != 0 {
			col = "p.subscriber_id"
		}
		cond += ` AND ` + col + ` IN (SELECT value FROM json_each(?))`
		args = append(args, idsJSON(q.IDs))
	}
	if listID == 0 && q.Status != "" {
		return "", nil, fmt.Errorf("searching subscribers: a status needs a list: %w", ErrBadStatus)
	}
	if t := text; t != "" && q.broad {
		// Tested on each row as the list is walked; the unary + keeps
		// SQLite from using the indexes (and sorting every match).
		hi := t + "\U0010FFFF"
		cond += ` AND (+s.email >= ? COLLATE NOCASE AND +s.email < ? COLLATE NOCASE OR +s.name >= ? COLLATE NOCASE AND +s.name < ? COLLATE NOCASE)`
		args = append(args, t, hi, t, hi)
	} else if t != "" {
		// The upper bound is the prefix followed by the highest code
		// point, so the range is exactly the strings that start with it.
		cond += ` AND s.id IN (
  SELECT id FROM subscribers WHERE email >= ? COLLATE NOCASE AND email < ? COLLATE NOCASE
  UNION SELECT id FROM subscribers WHERE name >= ? COLLATE NOCASE AND name < ? COLLATE NOCASE)`
		hi := t + "\U0010FFFF"
		args = append(args, t, hi, t, hi)
	}
	return cond, args, nil
}

// judgeBroad sets q.broad for a search of one list by text.
func (s *Store) judgeBroad(ctx context.Context, listID int64, q *SearchQuery) error {
	t := strings.TrimSpace(q.Text)
	if listID == 0 || t == "" || len(q.IDs) > 0 {
		return nil
	}
	n, err := s.prefixMatches(ctx, t, broadMatches)
	q.broad = n >= broadMatches
	return err
}

// prefixMatches counts the subscribers whose address or name starts with
// text, up to limit each (two index ranges, read no further).
func (s *Store) prefixMatches(ctx context.Context, text string, limit int) (int, error) {
	var n int
	hi := text + "\U0010FFFF"
	err := s.db.QueryRowContext(ctx, `SELECT
  (SELECT count(*) FROM (SELECT 1 FROM subscribers WHERE email >= ?1 COLLATE NOCASE AND email < ?2 COLLATE NOCASE LIMIT ?3))
  + (SELECT count(*) FROM (SELECT 1 FROM subscribers WHERE name >= ?1 COLLATE NOCASE AND name < ?2 COLLATE NOCASE LIMIT ?3))`,
		text, hi, limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("searching subscribers: %w", err)
	}
	return n, nil
}
