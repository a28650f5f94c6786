package bounces

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"kawaraban/bounces/classify"
)

// source says where a message was read: mailbox, UIDVALIDITY and UID. The
// zero source is a send-time failure reported by the mailer.
type source struct {
	mailbox     string
	uidvalidity uint32
	uid         uint32
}

// event is one bounce about to be recorded.
type event struct {
	src          source
	received     time.Time
	messageID    string
	dedupeKey    string
	d            Delivery
	verp         bool   // the envelope recipient carried a valid VERP token
	verified     bool   // tied to a delivery we made (see attribute)
	by           string // attribution: verp|message-id|delivery-header|send, or unverified recipient|claimed|none
	claim        string // unverified: what the returned message claimed, in words
	claimed      Delivery
	email        string
	class        classify.Class
	status       string
	action       string
	diagnostic   string
	remoteMTA    string
	format       string
	feedbackType string
	reason       string // the classifier's reason (classify.Reason*)
	why          string // the classifier's explanation
	raw          []byte
	named        []string // every recipient the report names, for forgetErased
}

// recorded is what record did with an event.
type recorded struct {
	id        int64
	duplicate bool // seen before and its effects already applied
	retried   bool // seen before, its effects applied now
	outcome   string
}

// dedupeKey returns the key that makes a message count once: its
// Message-ID, or a hash of its bytes when it has none.
func dedupeKey(msgID string, raw []byte) string {
	if msgID != "" {
		return "mid:" + msgID
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// record stores ev once and applies the policy. A message seen before whose
// effects did not all succeed (a crash, a failing Suppressor) has them
// applied again; one whose effects succeeded is reported as a duplicate.
func (s *Service) record(ctx context.Context, ev *event) (recorded, error) {
	if err := s.forgetErased(ctx, ev); err != nil {
		return recorded{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return recorded{}, fmt.Errorf("recording bounce: %w", err)
	}
	defer tx.Rollback()
	var (
		r       recorded
		applied bool
		d       decision
	)
	err = tx.QueryRowContext(ctx, `SELECT id, applied, outcome, email, rule, COALESCE(delivery_id,0), class, status, message_id, feedback_type
		FROM bounces WHERE dedupe_key = ? OR (mailbox <> '' AND mailbox = ? AND uidvalidity = ? AND uid = ?)`,
		ev.dedupeKey, ev.src.mailbox, ev.src.uidvalidity, ev.src.uid).
		Scan(&r.id, &applied, &r.outcome, &ev.email, &d.rule, &ev.d.ID, &ev.class, &ev.status, &ev.messageID, &ev.feedbackType)
	switch {
	case err == nil:
		if applied {
			r.duplicate = true
			return r, nil
		}
		d, r.retried = redecide(r.outcome, d.rule, ev), true
	case errors.Is(err, sql.ErrNoRows):
		if r.id, d, err = s.insert(ctx, tx, ev); err != nil {
			return recorded{}, err
		}
		r.outcome = d.outcome
		s.classes.WithLabelValues(string(ev.class)).Inc()
	default:
		return recorded{}, fmt.Errorf("looking up bounce: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return recorded{}, fmt.Errorf("recording bounce: %w", err)
	}
	if err := s.apply(ctx, r.id, ev, d); err != nil {
		if ctx.Err() != nil {
			return recorded{}, err
		}
		return r, s.applyFailed(ctx, r.id, err)
	}
	return r, nil
}

// applyFailed counts a failed attempt at a bounce's side effects. It
// returns err, so that the message is retried at the next poll, until
// MaxApplyAttempts; then it gives up, keeps the error with the bounce and
// returns nil, so that the mailbox goes on.
func (s *Service) applyFailed(ctx context.Context, id int64, err error) error {
	var n int
	qerr := s.db.QueryRowContext(ctx, `UPDATE bounces SET apply_attempts = apply_attempts + 1, apply_error = ?,
		applied = (apply_attempts + 1 >= ?) WHERE id = ? RETURNING apply_attempts`, err.Error(), MaxApplyAttempts, id).Scan(&n)
	if qerr != nil {
		return fmt.Errorf("%w (and recording the failure: %v)", err, qerr)
	}
	if n < MaxApplyAttempts {
		return err
	}
	s.log.Error("bounce side effects given up", "bounce_id", id, "attempts", n, "err", err)
	return nil
}

// insert decides and stores a new bounce, its score and any alert.
func (s *Service) insert(ctx context.Context, tx *sql.Tx, ev *event) (int64, decision, error) {
	sc, err := loadScores(ctx, tx, ev.email)
	if err != nil {
		return 0, decision{}, err
	}
	if ev.class == classify.Soft {
		if err := loadSoftRun(ctx, tx, ev.email, s.opt.SoftWindow, &sc); err != nil {
			return 0, decision{}, err
		}
	}
	prev, err := earlierBounce(ctx, tx, ev)
	if err != nil {
		return 0, decision{}, err
	}
	var d decision
	if prev != 0 {
		// One failed delivery can be reported twice: refused at RCPT and
		// then a DSN from the relay, or two DSNs from two hops. It counts
		// once toward suppression.
		d = decision{outcome: OutcomeNone, markBounced: true,
			rule: fmt.Sprintf("the same delivery already bounced (bounce %d): counted once", prev)}
	} else if ev.verified {
		d = s.decide(ev, &sc)
	} else {
		d = s.unverified(ev, sc)
	}
	if ev.why != "" && (ev.class == classify.Hard || ev.class == classify.Soft) {
		// The classifier's reasons, so that staff see why it is hard or
		// soft, not only what the policy did.
		d.rule += " (classified: " + ev.why + ")"
	}
	raw, truncated := ev.raw, false
	if ev.d.ID != 0 && ev.d.Email == "" {
		// The delivery's recipient was erased at their request
		// (ForgetAddress): a late report about it keeps no copy and no
		// diagnostic, which would name the address again.
		raw, ev.diagnostic = nil, ""
	}
	if len(raw) > s.opt.MaxRawBytes {
		raw, truncated = raw[:s.opt.MaxRawBytes], true
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO bounces (received, mailbox, uidvalidity, uid, message_id, dedupe_key,
		delivery_id, issue_id, subscriber_id, email, attributed_by, class, status, action, diagnostic, remote_mta,
		format, feedback_type, rule, outcome, raw, raw_truncated, list_id)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		ev.received.Unix(), ev.src.mailbox, ev.src.uidvalidity, ev.src.uid, ev.messageID, ev.dedupeKey,
		nullID(ev.d.ID), nullID(ev.d.IssueID), nullID(ev.d.SubscriberID), ev.email, ev.by, string(ev.class),
		ev.status, ev.action, ev.diagnostic, ev.remoteMTA, ev.format, ev.feedbackType, d.rule, d.outcome, raw, truncated, nullID(ev.d.ListID))
	if err != nil {
		return 0, decision{}, fmt.Errorf("inserting bounce: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, decision{}, fmt.Errorf("inserting bounce: %w", err)
	}
	if prev == 0 && ev.verified && ev.email != "" && !isErasedKey(ev.email) && (ev.class == classify.Hard || ev.class == classify.Soft) {
		if err := saveScores(ctx, tx, ev.email, sc); err != nil {
			return 0, decision{}, err
		}
	}
	if d.alert {
		_, err := tx.ExecContext(ctx, `INSERT INTO bounce_alerts (created, bounce_id, kind, domain, status, detail)
			VALUES (?,?,?,?,?,?)`, ev.received.Unix(), id, "policy-refusal", domainOf(ev.email), ev.status, ev.diagnostic)
		if err != nil {
			return 0, decision{}, fmt.Errorf("storing alert: %w", err)
		}
	}
	return id, d, nil
}

// redecide rebuilds the side effects of a stored outcome, to finish a
// bounce whose effects did not all succeed the first time.
func redecide(outcome, rule string, ev *event) decision {
	d := decision{outcome: outcome, rule: rule}
	switch outcome {
	case OutcomeUnsubscribed:
		d.unsubscribe, d.reason = true, ReasonComplaint
	case OutcomeSuppressed:
		d.reason, d.markBounced = ReasonHardBounce, true
	case OutcomeScored, OutcomeAlert:
		d.markBounced = true
	}
	return d
}

// apply performs the effects of d outside the database transaction, then
// marks the bounce applied. Effects are idempotent, so a retry is safe.
func (s *Service) apply(ctx context.Context, id int64, ev *event, d decision) error {
	if d.markBounced && ev.d.ID != 0 && s.deps.Marker != nil {
		if err := s.deps.Marker.MarkBounced(ctx, ev.d.ID); err != nil {
			return fmt.Errorf("marking delivery %d bounced: %w", ev.d.ID, err)
		}
	}
	if d.unsubscribe && s.deps.Suppressor != nil {
		evd := Evidence{MessageID: ev.messageID, FeedbackType: ev.feedbackType, Detail: d.rule}
		if err := s.deps.Suppressor.UnsubscribeAll(ctx, ev.email, "complaint", evd); err != nil {
			return fmt.Errorf("unsubscribing after complaint %d: %w", id, err)
		}
	}
	if d.reason != "" && s.deps.Suppressor != nil {
		if err := s.deps.Suppressor.Suppress(ctx, ev.email, d.reason, d.rule); err != nil {
			return fmt.Errorf("suppressing after bounce %d: %w", id, err)
		}
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE bounces SET applied = 1 WHERE id = ?`, id); err != nil {
		return fmt.Errorf("marking bounce %d applied: %w", id, err)
	}
	if d.alert {
		s.alerts.Inc()
		s.log.Warn("receiver refused our mail", "bounce_id", id, "delivery_id", ev.d.ID,
			"domain", domainOf(ev.email), "status", ev.status)
	}
	if d.reason != "" {
		s.log.Info("address suppressed", "bounce_id", id, "subscriber_id", ev.d.SubscriberID, "reason", d.reason)
	}
	return nil
}

func loadScores(ctx context.Context, tx *sql.Tx, email string) (scores, error) {
	var sc scores
	if email == "" {
		return sc, nil
	}
	var upd int64
	err := tx.QueryRowContext(ctx, `SELECT hard_count, soft_score, soft_updated FROM bounce_scores WHERE email = ?`,
		strings.ToLower(email)).Scan(&sc.hard, &sc.soft, &upd)
	if errors.Is(err, sql.ErrNoRows) {
		return sc, nil
	}
	if err != nil {
		return sc, fmt.Errorf("loading bounce score: %w", err)
	}
	if upd != 0 {
		sc.softUpdated = time.Unix(upd, 0)
	}
	return sc, nil
}

// loadSoftRun finds the current run of soft refusals of email: the soft
// bounces that counted (scored or suppressed), newer than its last
// successful delivery and than staff's last "not a bounce", going back
// while no two are more than window apart.
func loadSoftRun(ctx context.Context, tx *sql.Tx, email string, window time.Duration, sc *scores) error {
	if email == "" {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT received FROM bounces
		WHERE email = ? COLLATE NOCASE AND class = 'soft' AND outcome IN ('scored','suppressed') AND not_a_bounce = 0
		AND received > COALESCE((SELECT delivered_at FROM bounce_scores WHERE email = ?), 0)
		AND received > COALESCE((SELECT MAX(not_a_bounce_at) FROM bounces WHERE email = ? COLLATE NOCASE), 0)
		ORDER BY received DESC LIMIT 1000`, email, strings.ToLower(email), email)
	if err != nil {
		return fmt.Errorf("loading soft bounces: %w", err)
	}
	defer rows.Close()
	var since time.Time
	n := 0
	for rows.Next() {
		var r int64
		if err := rows.Scan(&r); err != nil {
			return fmt.Errorf("loading soft bounces: %w", err)
		}
		t := time.Unix(r, 0)
		if n > 0 && since.Sub(t) > window {
			break
		}
		since, n = t, n+1
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("loading soft bounces: %w", err)
	}
	sc.softSince, sc.softRun = since, n
	return nil
}

func saveScores(ctx context.Context, tx *sql.Tx, email string, sc scores) error {
	var upd int64
	if !sc.softUpdated.IsZero() {
		upd = sc.softUpdated.Unix()
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO bounce_scores (email, hard_count, soft_score, soft_updated) VALUES (?,?,?,?)
		ON CONFLICT (email) DO UPDATE SET hard_count = excluded.hard_count, soft_score = excluded.soft_score,
		soft_updated = excluded.soft_updated`, strings.ToLower(email), sc.hard, sc.soft, upd)
	if err != nil {
		return fmt.Errorf("saving bounce score: %w", err)
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func domainOf(email string) string {
	_, d, _ := splitAddr(email)
	return strings.ToLower(d)
}

// earlierBounce returns the id of a failure (hard or soft) already
// recorded for the same delivery, or 0: a refusal at RCPT TO and the DSN a
// relay sends later can disagree on the class, and are still one failed
// delivery.
func earlierBounce(ctx context.Context, tx *sql.Tx, ev *event) (int64, error) {
	if ev.d.ID == 0 || (ev.class != classify.Hard && ev.class != classify.Soft) {
		return 0, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM bounces WHERE delivery_id = ? AND class IN ('hard','soft') AND NOT not_a_bounce
		ORDER BY id LIMIT 1`, ev.d.ID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("looking for an earlier bounce of delivery %d: %w", ev.d.ID, err)
	}
	return id, nil
}
