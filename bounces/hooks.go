package bounces

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"kawaraban/bounces/classify"
)

// NoteDelivered tells the policy that mail to these addresses was accepted
// by the receiving server: it resets each one's hard-bounce count and soft
// score. The mailer reports every committed batch of sends (through the
// application layer), so it is one statement per batch and writes only rows
// that have something to reset.
func (s *Service) NoteDelivered(ctx context.Context, emails ...string) error {
	const chunk = 500
	for len(emails) > 0 {
		n := min(chunk, len(emails))
		args := make([]any, 0, n+1)
		args = append(args, s.opt.Now().Unix())
		for _, e := range emails[:n] {
			args = append(args, strings.ToLower(e))
		}
		q := `UPDATE bounce_scores SET hard_count = 0, soft_score = 0, delivered_at = ?
			WHERE (hard_count > 0 OR soft_score > 0) AND email IN (?` + strings.Repeat(",?", n-1) + `)`
		if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("resetting bounce scores: %w", err)
		}
		emails = emails[n:]
	}
	return nil
}

// RecordSendFailure records a refusal the mailer met at send time (a 5xx
// reply to RCPT TO or DATA, RFC 5321 §4.2) as a bounce of d and applies the
// same policy as to a bounce read from IMAP. enhanced is the RFC 3463 code
// of the reply, if any. Reporting the same delivery again changes nothing.
// The class comes from the reply's reason (classify.Refusal), not from its
// first digit: "552 5.2.2 mailbox full" is soft.
func (s *Service) RecordSendFailure(ctx context.Context, d Delivery, code int, enhanced, text string) error {
	rc := classify.Refusal(classify.Reply{Code: code, Enhanced: enhanced, Text: text})
	class := rc.Class
	if code >= 400 && code < 500 {
		class = classify.Soft
	}
	if enhanced == "" {
		enhanced = rc.Status
	}
	key := "send:" + strconv.FormatInt(d.ID, 10)
	if d.ID == 0 {
		key = dedupeKey("", []byte(d.Email+"\x00"+text+"\x00"+s.opt.Now().String()))
	}
	ev := &event{received: s.opt.Now(), dedupeKey: key, d: d, by: "send", verified: true, email: d.Email, class: class,
		status: enhanced, action: "failed", diagnostic: fmt.Sprintf("smtp; %d %s %s", code, enhanced, text), format: "smtp",
		reason: rc.Reason, why: rc.Why}
	if _, err := s.record(ctx, ev); err != nil {
		return fmt.Errorf("recording send failure of delivery %d: %w", d.ID, err)
	}
	return nil
}

// MarkNotABounce records staff's judgement that bounce id was not a bounce:
// the address is unsuppressed (when this bounce suppressed it), its counters
// reset, and the bounce no longer counts. actor is the staff login, kept
// with the bounce.
func (s *Service) MarkNotABounce(ctx context.Context, id int64, actor string) error {
	var email, outcome string
	var already bool
	err := s.db.QueryRowContext(ctx, `SELECT email, outcome, not_a_bounce FROM bounces WHERE id = ?`, id).
		Scan(&email, &outcome, &already)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("marking bounce %d not a bounce: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("marking bounce %d not a bounce: %w", id, err)
	}
	if already {
		return nil
	}
	if email != "" && (outcome == OutcomeSuppressed || outcome == OutcomeUnsubscribed) && s.deps.Suppressor != nil {
		if err := s.deps.Suppressor.Unsuppress(ctx, email, actor); err != nil {
			return fmt.Errorf("unsuppressing after bounce %d: %w", id, err)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("marking bounce %d not a bounce: %w", id, err)
	}
	defer tx.Rollback()
	// The other reports of the same failed delivery (List shows them as
	// one bounce) go with it.
	if _, err := tx.ExecContext(ctx, `UPDATE bounces SET not_a_bounce = 1, not_a_bounce_by = ?, not_a_bounce_at = ?,
		rule = rule || ?, outcome = ? WHERE id = ? OR (not_a_bounce = 0 AND class IN ('hard','soft') AND delivery_id IS NOT NULL
		AND delivery_id = (SELECT delivery_id FROM bounces WHERE id = ? AND class IN ('hard','soft')))`, actor, s.opt.Now().Unix(),
		" — then marked not a bounce by "+actor+"; suppression undone", OutcomeNone, id, id); err != nil {
		return fmt.Errorf("marking bounce %d not a bounce: %w", id, err)
	}
	if email != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE bounce_scores SET hard_count = 0, soft_score = 0 WHERE email = ?`,
			strings.ToLower(email)); err != nil {
			return fmt.Errorf("resetting bounce score: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("marking bounce %d not a bounce: %w", id, err)
	}
	s.log.Info("bounce marked not a bounce", "bounce_id", id, "actor", actor)
	return nil
}

// Verify records staff's judgement that an unverified bounce (outcome
// OutcomeUnverified) is genuine, and applies the policy to it now, as if it
// had arrived with our VERP token: a complaint unsubscribes and suppresses,
// a hard bounce counts toward suppression. actor is the staff login, kept
// in the bounce's rule. A bounce that is not unverified gives
// ErrNotUnverified; an unknown id ErrNotFound.
func (s *Service) Verify(ctx context.Context, id int64, actor string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("verifying bounce %d: %w", id, err)
	}
	defer tx.Rollback()
	ev := &event{received: s.opt.Now(), verified: true, by: "staff"}
	var outcome string
	err = tx.QueryRowContext(ctx, `SELECT email, class, status, action, feedback_type, message_id, outcome
		FROM bounces WHERE id = ?`, id).
		Scan(&ev.email, &ev.class, &ev.status, &ev.action, &ev.feedbackType, &ev.messageID, &outcome)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("verifying bounce %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("verifying bounce %d: %w", id, err)
	}
	if outcome != OutcomeUnverified {
		return fmt.Errorf("verifying bounce %d (outcome %s): %w", id, outcome, ErrNotUnverified)
	}
	sc, err := loadScores(ctx, tx, ev.email)
	if err != nil {
		return err
	}
	d := s.decide(ev, &sc)
	d.alert = false // an alert is for the receiver's refusals as they arrive
	if ev.email != "" && (ev.class == classify.Hard || ev.class == classify.Soft) {
		if err := saveScores(ctx, tx, ev.email, sc); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE bounces SET outcome = ?, rule = rule || ?, applied = 0, attributed_by = ?
		WHERE id = ?`, d.outcome, " — then verified by "+actor+": "+d.rule, "staff", id); err != nil {
		return fmt.Errorf("verifying bounce %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("verifying bounce %d: %w", id, err)
	}
	s.log.Info("bounce verified by staff", "bounce_id", id, "actor", actor, "outcome", d.outcome)
	if err := s.apply(ctx, id, ev, d); err != nil {
		return s.applyFailed(ctx, id, err)
	}
	return nil
}
