package subscribers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Erasure serves a deletion request under the personal-information law
// (個人情報保護法): the subscriber's address, name and attributes leave
// this package's tables, and what must outlive them is kept under a keyed
// hash of the address (ErasedKey). docs/subscribers.md says what is kept
// and why.

// erasedPrefix starts every hashed address, in consent_events.email,
// suppressions.email and subscriber_erasures.address_hash.
const erasedPrefix = "erased:"

// IsErasedKey reports whether s is the keyed hash that stands for an erased
// address (ErasedKey) rather than an address: pages show it as words.
func IsErasedKey(s string) bool { return strings.HasPrefix(s, erasedPrefix) }

// purposeErased is the token.Signer purpose of the address hash.
const purposeErased = "erased-address"

// nextIDSQL is the id of a new subscriber: above every id in use and
// every erased one. SQLite would otherwise give the largest id again once
// its subscriber is erased, and the links already mailed to the erased
// reader (unsubscribe, preferences: they never expire) would then act on
// a stranger.
const nextIDSQL = `(SELECT max(coalesce((SELECT max(id) FROM subscribers), 0),
  coalesce((SELECT max(subscriber_id) FROM subscriber_erasures), 0)) + 1)`

// ErrPreviouslyErased is returned when staff add (or import) an address
// that was erased and has not subscribed again by itself: the law asks
// that it is not brought back without the person's fresh consent.
var ErrPreviouslyErased = errors.New("the address was erased at its owner's request")

// Erased describes one erasure.
type Erased struct {
	SubscriberID int64
	// Email is the address that was erased, for the caller to forget in
	// the tables of other packages; it is not stored anywhere.
	Email string
	// Key is the keyed hash that stands for the address from now on.
	Key   string
	Lists []string // slugs of the lists it was on
	At    time.Time
}

// ErasedKey returns the keyed hash that stands for an erased address:
// "erased:" and an HMAC (token.Signer, the daemon's secret) of the
// address in lower case, so every spelling that differs only in case has
// one key. Without the secret the hash cannot be tested against guessed
// addresses.
func (s *Store) ErasedKey(email string) (string, error) {
	if s.opt.Signer == nil {
		return "", ErrNoSigner
	}
	a, err := ParseAddress(email)
	if err != nil {
		return "", err
	}
	return s.erasedKey(a.String()), nil
}

func (s *Store) erasedKey(key string) string {
	return erasedPrefix + s.opt.Signer.Tag(purposeErased, []byte(strings.ToLower(key)))
}

// Erase removes a subscriber's personal data from this package's tables
// in one transaction, for a deletion request (actor: who; reason: why,
// required). What stays:
//   - a row in subscriber_erasures (who, when, why, the lists, the hash);
//   - the consent log's events of the address with the hash instead of
//     the address, subscriber 0 and the address taken out of their
//     detail, so the proof of consent lasts its retention period;
//   - the address's suppressions, under the hash: if the address comes
//     back, they hold again (reclaimErased).
//
// Subscriptions, the subscriber row (name, attributes), the
// confirmation-mail log of the address and its subscription requests
// still waiting in the intake are deleted. The caller erases the
// address from other packages' tables (newsletter.Erasure does it all).
func (s *Store) Erase(ctx context.Context, id int64, actor, reason string) (Erased, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Erased{}, ErrReasonRequired
	}
	if s.opt.Signer == nil {
		return Erased{}, ErrNoSigner
	}
	var out Erased
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		sub, err := subscriberByID(ctx, tx, id)
		if err != nil {
			return err
		}
		lists, err := subscriberListSlugs(ctx, tx, id)
		if err != nil {
			return err
		}
		now := s.now()
		out = Erased{SubscriberID: id, Email: sub.Email, Key: s.erasedKey(sub.Email), Lists: lists, At: now}
		return eraseTx(ctx, tx, out, actor, reason)
	})
	if err != nil {
		return Erased{}, fmt.Errorf("erasing subscriber %d: %w", id, err)
	}
	s.log.Info("subscriber erased", "subscriber_id", id, "actor", actor)
	return out, nil
}

func eraseTx(ctx context.Context, tx *sql.Tx, e Erased, actor, reason string) error {
	steps := []struct {
		what, q string
		args    []any
	}{
		// The address inside a detail (an import's consent text, say) goes
		// too, in the spellings it was stored in.
		{"consent log", `UPDATE consent_events SET email = ?1, subscriber_id = 0,
  detail = replace(replace(detail, ?2, '[erased]'), lower(?2), '[erased]')
WHERE (subscriber_id = ?3 OR email = ?2 COLLATE NOCASE) AND email NOT LIKE 'erased:%'`, []any{e.Key, e.Email, e.SubscriberID}},
		{"suppressions", `UPDATE OR REPLACE suppressions SET email = ?1, detail = '' WHERE email = ?2 COLLATE NOCASE`,
			[]any{e.Key, e.Email}},
		{"confirmation log", `DELETE FROM confirmation_sends WHERE email = ? COLLATE NOCASE`, []any{e.Email}},
		// A request answered but not yet done (Intake) would bring the
		// address back a moment later; Intake.Run skips a row gone.
		{"subscription requests", `DELETE FROM subscribe_intake WHERE email = ? COLLATE NOCASE`, []any{e.Email}},
		{"subscriptions", `DELETE FROM subscriptions WHERE subscriber_id = ?`, []any{e.SubscriberID}},
		{"subscriber", `DELETE FROM subscribers WHERE id = ?`, []any{e.SubscriberID}},
		{"erasure record", `INSERT INTO subscriber_erasures (subscriber_id, address_hash, at_ms, actor, reason, lists)
VALUES (?,?,?,?,?,?)`, []any{e.SubscriberID, e.Key, e.At.UnixMilli(), actor, reason, strings.Join(e.Lists, ",")}},
	}
	for _, st := range steps {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return fmt.Errorf("%s: %w", st.what, err)
		}
	}
	// Staff's words in the import records may quote the address.
	for _, c := range [][2]string{{"subscriber_imports", "consent_source"}, {"subscriber_imports", "file_name"},
		{"subscriber_imports", "error"}, {"subscriber_import_rejects", "reason"}} {
		if err := scrubText(ctx, tx, c[0], c[1], e.Email); err != nil {
			return err
		}
	}
	return nil
}

// scrubText takes addr, in any ASCII case, out of the text column col of
// table (both fixed names, never input).
func scrubText(ctx context.Context, tx *sql.Tx, table, col, addr string) error {
	like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(addr) + "%"
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT `+col+` FROM `+table+` WHERE `+col+` LIKE ? ESCAPE '\'`, like)
	if err != nil {
		return fmt.Errorf("scrubbing %s.%s: %w", table, col, err)
	}
	var texts []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return fmt.Errorf("scrubbing %s.%s: %w", table, col, err)
		}
		texts = append(texts, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scrubbing %s.%s: %w", table, col, err)
	}
	for _, t := range texts {
		if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET `+col+` = ? WHERE `+col+` = ?`, replaceFold(t, addr), t); err != nil {
			return fmt.Errorf("scrubbing %s.%s: %w", table, col, err)
		}
	}
	return nil
}

// replaceFold replaces every ASCII-case-blind occurrence of addr in t
// with "[erased]".
func replaceFold(t, addr string) string {
	if addr == "" {
		return t
	}
	lt, la := strings.ToLower(t), strings.ToLower(addr)
	if len(lt) != len(t) {
		return strings.ReplaceAll(t, addr, "[erased]")
	}
	var b strings.Builder
	for {
		i := strings.Index(lt, la)
		if i < 0 {
			b.WriteString(t)
			return b.String()
		}
		b.WriteString(t[:i])
		b.WriteString("[erased]")
		t, lt = t[i+len(addr):], lt[i+len(addr):]
	}
}

func subscriberListSlugs(ctx context.Context, q queryer, id int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT l.slug FROM subscriptions p JOIN lists l ON l.id = p.list_id
WHERE p.subscriber_id = ? ORDER BY l.slug`, id)
	if err != nil {
		return nil, fmt.Errorf("lists of subscriber %d: %w", id, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var slug string
		if err := rows.Scan(&slug); err != nil {
			return nil, err
		}
		out = append(out, slug)
	}
	return out, rows.Err()
}

// wasErased reports whether the address key (as stored: Address.String)
// was erased. Without a signer nothing can have been erased.
func (s *Store) wasErased(ctx context.Context, q queryer, key string) (bool, error) {
	if s.opt.Signer == nil {
		return false, nil
	}
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM subscriber_erasures WHERE address_hash = ? LIMIT 1`, s.erasedKey(key)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking erasures: %w", err)
	}
	return true, nil
}

// StillErased reports whether email was erased at its owner's request
// and has not come back as a subscriber since (by a subscribe request of
// its own); if so, key is its ErasedKey, the form in which other packages
// record a later mention of the address (a bounce report naming it). An
// address that was never erased costs one lookup of subscriber_erasures'
// hash index. Without a signer nothing can have been erased; an address
// that does not parse was never a subscriber's, so it was never erased.
func (s *Store) StillErased(ctx context.Context, email string) (key string, erased bool, err error) {
	if s.opt.Signer == nil {
		return "", false, nil
	}
	a, err := ParseAddress(email)
	if err != nil {
		return "", false, nil
	}
	if erased, err = s.wasErased(ctx, s.db, a.String()); err != nil || !erased {
		return "", false, err
	}
	var one int
	err = s.db.QueryRowContext(ctx, `SELECT 1 FROM subscribers WHERE email = ? COLLATE NOCASE LIMIT 1`, a.String()).Scan(&one)
	switch {
	case err == nil:
		return "", false, nil // it came back: an ordinary subscriber again
	case errors.Is(err, sql.ErrNoRows):
		return s.erasedKey(a.String()), true, nil
	default:
		return "", false, fmt.Errorf("checking an erased address: %w", err)
	}
}

// reclaimErased is called when an erased address becomes a subscriber
// again (by its own subscribe request): the suppressions kept under its
// hash hold for the address again.
func (s *Store) reclaimErased(ctx context.Context, tx *sql.Tx, key string) error {
	_, err := tx.ExecContext(ctx, `UPDATE OR REPLACE suppressions SET email = ? WHERE email = ?`, key, s.erasedKey(key))
	if err != nil {
		return fmt.Errorf("restoring suppressions of an erased address: %w", err)
	}
	return nil
}

// Erasures returns the erasure records of an address (by its hash),
// newest first: how staff answer "was this address erased, when, by
// whom?" without the address being stored.
func (s *Store) Erasures(ctx context.Context, email string) ([]ErasureRecord, error) {
	key, err := s.ErasedKey(email)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT subscriber_id, at_ms, actor, reason, lists FROM subscriber_erasures
WHERE address_hash = ? ORDER BY at_ms DESC, id DESC`, key)
	if err != nil {
		return nil, fmt.Errorf("loading erasures: %w", err)
	}
	defer rows.Close()
	var out []ErasureRecord
	for rows.Next() {
		var r ErasureRecord
		var at int64
		var lists string
		if err := rows.Scan(&r.SubscriberID, &at, &r.Actor, &r.Reason, &lists); err != nil {
			return nil, fmt.Errorf("loading erasures: %w", err)
		}
		r.At = time.UnixMilli(at).In(s.opt.Location)
		if lists != "" {
			r.Lists = strings.Split(lists, ",")
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ErasureRecord is one row of subscriber_erasures.
type ErasureRecord struct {
	SubscriberID int64
	At           time.Time
	Actor        string
	Reason       string
	Lists        []string
}
