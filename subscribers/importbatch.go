package subscribers

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The rows of one import batch are looked up with three queries (their
// suppressions, subscribers and subscriptions), decided in Go, and
// written with multi-row INSERTs.

// batchState is what the database holds about one batch's addresses.
type batchState struct {
	suppressed map[string]string // lower-case address → reason
	subs       map[string]existing
	status     map[int64]subState // subscriber id → subscription to the list
	// erased holds the addresses (as stored) that are no subscriber and
	// were erased at their owner's request (erase.go).
	erased map[string]bool
}

type existing struct {
	id          int64
	name, attrs string
}

type subState struct {
	status  string
	unsubAt sql.NullInt64
}

// rowAction is what becomes of one row.
type rowAction int

const (
	actReject    rowAction = iota
	actAdd                 // new to the list (a new subscriber, or not confirmed on it)
	actUpdate              // confirmed on it; name or attributes change
	actUnchanged           // confirmed on it as it is
)

// lookupBatch reads what the database holds about rows' addresses,
// erasures included.
func (s *Store) lookupBatch(ctx context.Context, q queryer, l List, rows []importRow) (batchState, error) {
	st, err := lookupRows(ctx, q, l, rows)
	if err != nil || s.opt.Signer == nil {
		return st, err
	}
	byKey := map[string]string{}
	for _, r := range rows {
		if key := r.addr.String(); st.subs[key].id == 0 {
			byKey[s.erasedKey(key)] = key
		}
	}
	if len(byKey) == 0 {
		return st, nil
	}
	hashes := make([]string, 0, len(byKey))
	for h := range byKey {
		hashes = append(hashes, h)
	}
	js, _ := json.Marshal(hashes)
	st.erased = map[string]bool{}
	err = eachRow(ctx, q, func(rs *sql.Rows) error {
		var h string
		if err := rs.Scan(&h); err != nil {
			return err
		}
		st.erased[byKey[h]] = true
		return nil
	}, `SELECT DISTINCT address_hash FROM subscriber_erasures WHERE address_hash IN (SELECT value FROM json_each(?))`, string(js))
	if err != nil {
		return st, fmt.Errorf("checking erasures: %w", err)
	}
	return st, nil
}

// lookupRows reads what the database holds about rows' addresses.
func lookupRows(ctx context.Context, q queryer, l List, rows []importRow) (batchState, error) {
	st := batchState{suppressed: map[string]string{}, subs: map[string]existing{}, status: map[int64]subState{}}
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = r.addr.String()
	}
	js, _ := json.Marshal(keys)
	// A suppression holds for every spelling that differs only in case
	// (migration 0012).
	err := eachRow(ctx, q, func(rs *sql.Rows) error {
		var key, reason string
		if err := rs.Scan(&key, &reason); err != nil {
			return err
		}
		st.suppressed[strings.ToLower(key)] = reason
		return nil
	}, `SELECT j.value, s.reason FROM json_each(?) j JOIN suppressions s
		ON s.email = j.value COLLATE NOCASE AND s.list_id = 0`, string(js))
	if err != nil {
		return st, fmt.Errorf("checking suppressions: %w", err)
	}
	var ids []int64
	err = eachRow(ctx, q, func(rs *sql.Rows) error {
		var key string
		var e existing
		if err := rs.Scan(&key, &e.id, &e.name, &e.attrs); err != nil {
			return err
		}
		st.subs[key] = e
		ids = append(ids, e.id)
		return nil
	}, `SELECT s.email, s.id, s.name, s.attributes FROM json_each(?) j JOIN subscribers s ON s.email = j.value`, string(js))
	if err != nil {
		return st, fmt.Errorf("loading subscribers: %w", err)
	}
	if len(ids) == 0 {
		return st, nil
	}
	jids, _ := json.Marshal(ids)
	err = eachRow(ctx, q, func(rs *sql.Rows) error {
		var id int64
		var s subState
		if err := rs.Scan(&id, &s.status, &s.unsubAt); err != nil {
			return err
		}
		st.status[id] = s
		return nil
	}, `SELECT subscriber_id, status, unsubscribed_at FROM subscriptions
		WHERE list_id = ? AND subscriber_id IN (SELECT value FROM json_each(?))`, l.ID, string(jids))
	if err != nil {
		return st, fmt.Errorf("loading subscriptions: %w", err)
	}
	return st, nil
}

func eachRow(ctx context.Context, q queryer, fn func(*sql.Rows) error, query string, args ...any) error {
	rs, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		if err := fn(rs); err != nil {
			return err
		}
	}
	return rs.Err()
}

// decide says what becomes of row: rejected (with the reason) for a
// suppressed address or one that left the list (an import never
// subscribes someone again); else added, updated or unchanged.
func (s *Store) decide(st batchState, row importRow) (rowAction, rejectReason) {
	key := row.addr.String()
	if reason, ok := st.suppressed[strings.ToLower(key)]; ok {
		return actReject, rejectReason{"the address is suppressed (" + reason + ")", "配信停止リストにあるアドレスです(" + suppressionJA(reason) + ")"}
	}
	e, ok := st.subs[key]
	if !ok && st.erased[key] {
		return actReject, rejectReason{"the address was erased at its owner's request; only the owner can subscribe it again",
			"本人の依頼で削除されたアドレスです。登録し直せるのは本人だけです"}
	}
	if !ok {
		return actAdd, rejectReason{}
	}
	sub := st.status[e.id]
	switch {
	case sub.status == StatusUnsubscribed:
		return actReject, leftReason(sub.unsubAt, s.opt.Location)
	case sub.status != StatusConfirmed:
		return actAdd, rejectReason{}
	case detailsChange(e.name, e.attrs, row):
		return actUpdate, rejectReason{}
	}
	return actUnchanged, rejectReason{}
}

// suppressionJA names a suppression's reason in Japanese.
func suppressionJA(reason string) string {
	switch reason {
	case ReasonHardBounce:
		return "宛先不明のエラー"
	case ReasonComplaint:
		return "迷惑メールの申告"
	case ReasonManual:
		return "職員による登録"
	}
	return "その他"
}

// count adds one decision to rep.
func count(rep *ImportReport, a rowAction, line int, reason rejectReason) {
	switch a {
	case actReject:
		rep.Rejected = append(rep.Rejected, reason.row(line))
	case actAdd:
		rep.Added++
	case actUpdate:
		rep.Updated++
	default:
		rep.Unchanged++
	}
}

// planRows tells what a dry run's rows would do, reading the database in
// one read transaction (BEGIN DEFERRED: no write lock).
func (s *Store) planRows(ctx context.Context, l List, rows []importRow, rep *ImportReport) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("checking rows: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN DEFERRED"); err != nil {
		return fmt.Errorf("checking rows: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "COMMIT")
	st, err := s.lookupBatch(ctx, conn, l, rows)
	if err != nil {
		return err
	}
	for _, row := range rows {
		a, reason := s.decide(st, row)
		count(rep, a, row.line, reason)
	}
	return nil
}

// writeRows applies one batch of checked rows inside tx and counts the
// outcomes into rep. New subscribers, subscriptions and consent events
// go in as multi-row INSERTs of up to insertChunk rows.
func (s *Store) writeRows(ctx context.Context, tx *sql.Tx, l List, rows []importRow, opt ImportOptions, rep *ImportReport) error {
	st, err := s.lookupBatch(ctx, tx, l, rows)
	if err != nil {
		return err
	}
	now := s.now()
	var fresh, joining []importRow // new subscribers; rows that join the list
	for _, row := range rows {
		a, reason := s.decide(st, row)
		count(rep, a, row.line, reason)
		if a == actReject || a == actUnchanged {
			continue
		}
		e, known := st.subs[row.addr.String()]
		if !known {
			fresh = append(fresh, row)
		} else if name, merged, changed := mergeDetails(e.name, e.attrs, row); changed {
			if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET name = ?, attributes = ? WHERE id = ?`,
				name, encodeAttributes(merged), e.id); err != nil {
				return fmt.Errorf("updating line %d: %w", row.line, err)
			}
		}
		if a == actAdd {
			joining = append(joining, row)
		}
	}
	if err := addSubscribers(ctx, tx, fresh, now.Unix(), st.subs); err != nil {
		return err
	}
	for rows := range slices.Chunk(joining, insertChunk) {
		// As setStatus(StatusConfirmed) and record(EventOptIn), a chunk
		// at a time.
		subArgs := make([]any, 0, 3*len(rows)+2)
		evArgs := make([]any, 0, 3*len(rows)+5)
		subArgs = append(subArgs, l.ID, now.Unix())
		evArgs = append(evArgs, now.UnixMilli(), l.ID, SourceImport, opt.Actor, opt.ConsentSource)
		for _, row := range rows {
			key := row.addr.String()
			id := st.subs[key].id
			subArgs = append(subArgs, id, SourceImport)
			evArgs = append(evArgs, id, key)
		}
		q := `INSERT INTO subscriptions (list_id, subscriber_id, status, source, requested_at, confirmed_at) VALUES ` +
			values(len(rows), "(?1, ?%d, 'confirmed', ?%d, ?2, ?2)", 3) +
			` ON CONFLICT DO UPDATE SET status = 'confirmed', confirmed_at = excluded.confirmed_at, unsubscribed_at = NULL`
		if _, err := tx.ExecContext(ctx, q, subArgs...); err != nil {
			return fmt.Errorf("subscribing lines %d–%d: %w", rows[0].line, rows[len(rows)-1].line, err)
		}
		q = `INSERT INTO consent_events (at_ms, list_id, subscriber_id, email, event, source, actor, detail) VALUES ` +
			values(len(rows), "(?1, ?2, ?%d, ?%d, 'opt-in', ?3, ?4, ?5)", 6)
		if _, err := tx.ExecContext(ctx, q, evArgs...); err != nil {
			return fmt.Errorf("recording consent of lines %d–%d: %w", rows[0].line, rows[len(rows)-1].line, err)
		}
	}
	return nil
}

// insertChunk is how many rows one multi-row INSERT carries.
const insertChunk = 200

// values is n value tuples of format, whose two %d are numbered
// parameters counted on from first.
func values(n int, format string, first int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, format, first+2*i, first+2*i+1)
	}
	return b.String()
}

// addSubscribers inserts the new subscribers and puts their ids in subs.
func addSubscribers(ctx context.Context, tx *sql.Tx, rows []importRow, now int64, subs map[string]existing) error {
	for rows := range slices.Chunk(rows, insertChunk) {
		args := make([]any, 0, 3*len(rows)+1)
		args = append(args, now)
		for _, row := range rows {
			args = append(args, row.addr.String(), row.name, encodeAttributes(row.attrs))
		}
		var b strings.Builder
		for i := range rows {
			if i > 0 {
				b.WriteString(", ")
			}
			id := "NULL" // the next rowid, one above the largest
			if i == 0 {
				id = nextIDSQL
			}
			fmt.Fprintf(&b, "(%s, ?%d, ?%d, 'ja', ?%d, ?1)", id, 2+3*i, 3+3*i, 4+3*i)
		}
		err := eachRow(ctx, tx, func(rs *sql.Rows) error {
			var e existing
			var key string
			if err := rs.Scan(&e.id, &key); err != nil {
				return err
			}
			subs[key] = e
			return nil
		}, `INSERT INTO subscribers (id, email, name, lang, attributes, created) VALUES `+b.String()+` RETURNING id, email`, args...)
		if err != nil {
			return fmt.Errorf("adding lines %d–%d: %w", rows[0].line, rows[len(rows)-1].line, err)
		}
	}
	return nil
}
