package bounces

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"kawaraban/bounces/classify"
)

// Bounce is one recorded bounce as the admin UI shows it.
type Bounce struct {
	ID           int64
	Received     time.Time
	Mailbox      string // '' for a refusal the mailer met at send time
	UIDValidity  uint32
	UID          uint32
	MessageID    string
	DeliveryID   int64
	IssueID      int64
	SubscriberID int64
	// ListID is the list of the bounced delivery's issue (0: unattributed).
	ListID int64
	Email  string
	// AttributedBy is verp, message-id, delivery-header, system or send for a
	// report tied to a delivery we made; recipient, claimed or none for an
	// unverified one; staff once staff verified it.
	AttributedBy string
	Class        classify.Class
	Status       string // RFC 3463
	Action       string // RFC 3464
	Diagnostic   string
	RemoteMTA    string
	Format       string
	FeedbackType string
	Rule         string // the rule that acted, in words
	Outcome      string // one of the Outcome constants
	NotABounce   bool
	NotABounceBy string
	// ApplyError is why the outcome's side effects failed, if they were
	// given up after MaxApplyAttempts.
	ApplyError string
	// Raw is the message as received (ByID only), cut at
	// Options.MaxRawBytes when RawTruncated.
	Raw          []byte
	RawTruncated bool
	// Also holds the other reports of the same failed delivery, oldest
	// first (List only): a refusal at RCPT TO met while sending and the
	// DSN a relay sent later, or DSNs from two hops. The bounce itself is
	// the first report, the one the policy acted on; the others were
	// counted once with it.
	Also []Bounce
}

// Unverified reports whether the bounce is not tied to a delivery we made
// and waits for staff (Service.Verify); it changed nothing.
func (b Bounce) Unverified() bool { return b.Outcome == OutcomeUnverified }

// Explanation says in words how the bounce was attributed and what the
// policy did.
func (b Bounce) Explanation() string {
	var by string
	switch b.AttributedBy {
	case "verp":
		by = "attributed by the VERP token in the return path"
	case "message-id":
		by = "attributed by the Message-ID of the returned message"
	case "delivery-header":
		by = "attributed by the " + DeliveryHeader + " header of the returned message"
	case "recipient":
		by = "not tied to a delivery we made: only the recipient address the report names"
	case "claimed":
		by = "not tied to a delivery we made: the returned message names a delivery, the report no recipient"
	case "staff":
		by = "verified by staff"
	case "system":
		by = "attributed by the signed return path of our system mail to this recipient"
	case "send":
		by = "refused by the receiving server while sending"
	default:
		by = "not attributed to any delivery"
	}
	s := fmt.Sprintf("%s (%s); %s", b.Class, by, b.Rule)
	for _, o := range b.Also {
		s += fmt.Sprintf("; the same delivery was also reported by bounce %d (%s, %s status %s: %s)",
			o.ID, o.Received.Format(time.RFC3339), reportKind(o), orUnknown(o.Status), o.Diagnostic)
	}
	return s
}

// Evidence is the diagnostic of the bounce followed by those of the other
// reports of the same delivery (Also), for a one-line view.
func (b Bounce) Evidence() string {
	s := b.Diagnostic
	for _, o := range b.Also {
		s += fmt.Sprintf(" | %s %s: %s", reportKind(o), orUnknown(o.Status), o.Diagnostic)
	}
	return s
}

// reportKind names where a report came from.
func reportKind(b Bounce) string {
	if b.Mailbox == "" {
		return "refused while sending,"
	}
	return "DSN " + b.Format + ","
}

// Filter selects bounces for List. Zero fields select everything.
type Filter struct {
	Class        classify.Class
	IssueID      int64
	ListID       int64
	SubscriberID int64
	Email        string
	Outcome      string // e.g. OutcomeUnverified
	Page         int    // from 1
	PerPage      int    // default 50
	// Offset, when set, starts the page at that row instead of Page's.
	Offset int
}

const bounceCols = `id, received, mailbox, uidvalidity, uid, message_id, COALESCE(delivery_id,0), COALESCE(issue_id,0),
	COALESCE(subscriber_id,0), email, attributed_by, class, status, action, diagnostic, remote_mta, format,
	feedback_type, rule, outcome, not_a_bounce, not_a_bounce_by, apply_error, raw_truncated, COALESCE(list_id,0)`

func scanBounce(sc interface{ Scan(...any) error }, extra ...any) (Bounce, error) {
	var b Bounce
	var received int64
	dest := []any{&b.ID, &received, &b.Mailbox, &b.UIDValidity, &b.UID, &b.MessageID, &b.DeliveryID, &b.IssueID,
		&b.SubscriberID, &b.Email, &b.AttributedBy, &b.Class, &b.Status, &b.Action, &b.Diagnostic, &b.RemoteMTA,
		&b.Format, &b.FeedbackType, &b.Rule, &b.Outcome, &b.NotABounce, &b.NotABounceBy, &b.ApplyError, &b.RawTruncated, &b.ListID}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return b, err
	}
	b.Received = time.Unix(received, 0).UTC()
	return b, nil
}

// onePerDelivery names, in the table "firsts", the ids of the bounces
// matching where that stand for a failed delivery: reports of the same
// delivery (delivery_id, class hard or soft, not marked not a bounce) are
// grouped and the first one stands for the group; other rows stand alone.
// The window runs over ids only, so that no raw message is read.
const onePerDelivery = `WITH g AS (SELECT id, MIN(id) OVER (PARTITION BY CASE
		WHEN delivery_id IS NOT NULL AND class IN ('hard','soft') AND not_a_bounce = 0 THEN delivery_id ELSE -id END) AS first_id
		FROM bounces %s),
	firsts AS (SELECT id FROM g WHERE id = first_id)`

// laterReport is true for a bounce that is not the first report of its
// failed delivery (delivery_id, class hard or soft, not marked not a
// bounce) among the reports matching the same conditions (%s, on the
// other report o): List leaves it out, its first report stands for it.
// Through the index on delivery_id this is one lookup per row, so a page
// walks the bounces newest first and stops after a page, however many
// bounces match; grouping every match first (a window over all of them)
// cost 40–160 ms at 22,000 bounces under load (issue 19).
const laterReport = `(delivery_id IS NOT NULL AND class IN ('hard','soft') AND not_a_bounce = 0
	AND EXISTS (SELECT 1 FROM bounces o WHERE o.delivery_id = bounces.delivery_id AND o.class IN ('hard','soft')
		AND o.not_a_bounce = 0 AND o.id < bounces.id%s))`

// List returns bounces matching f, newest first, without their raw
// messages. A failed delivery reported more than once is one Bounce, with
// the other reports in Also; Class selects by the first report's class.
func (s *Service) List(ctx context.Context, f Filter) ([]Bounce, error) {
	var where, inner []string
	var args, innerArgs []any
	add := func(col, op string, v any) {
		where = append(where, col+op)
		inner = append(inner, "o."+col+op)
		args = append(args, v)
		innerArgs = append(innerArgs, v)
	}
	if f.IssueID != 0 {
		add("issue_id", " = ?", f.IssueID)
	}
	if f.ListID != 0 {
		add("list_id", " = ?", f.ListID)
	}
	if f.SubscriberID != 0 {
		add("subscriber_id", " = ?", f.SubscriberID)
	}
	if f.Email != "" {
		add("email", " = ? COLLATE NOCASE", f.Email)
	}
	if f.Outcome != "" {
		add("outcome", " = ?", f.Outcome)
	}
	if f.PerPage <= 0 {
		f.PerPage = 50
	}
	if f.Page <= 0 {
		f.Page = 1
	}
	// Issue, subscriber and email are the same for every report of a
	// delivery, so they select before grouping; the class is the group's
	// (its first report's), so it selects after.
	innerCond := ""
	if len(inner) > 0 {
		innerCond = " AND " + strings.Join(inner, " AND ")
	}
	where = append(where, "NOT "+fmt.Sprintf(laterReport, innerCond))
	args = append(args, innerArgs...)
	if f.Class != "" {
		where = append(where, "class = ?")
		args = append(args, string(f.Class))
	}
	q := "SELECT " + bounceCols + " FROM bounces WHERE " + strings.Join(where, " AND ") +
		" ORDER BY received DESC, id DESC LIMIT ? OFFSET ?"
	off := (f.Page - 1) * f.PerPage
	if f.Offset > 0 {
		off = f.Offset
	}
	rows, err := s.db.QueryContext(ctx, q, append(args, f.PerPage, off)...)
	if err != nil {
		return nil, fmt.Errorf("listing bounces: %w", err)
	}
	defer rows.Close()
	var out []Bounce
	for rows.Next() {
		b, err := scanBounce(rows)
		if err != nil {
			return nil, fmt.Errorf("listing bounces: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing bounces: %w", err)
	}
	rows.Close()
	if err := s.attachAlso(ctx, out); err != nil {
		return nil, fmt.Errorf("listing bounces: %w", err)
	}
	return out, nil
}

// attachAlso fills Also of each failure in bs with the other reports of
// its delivery.
func (s *Service) attachAlso(ctx context.Context, bs []Bounce) error {
	at := map[int64]int{} // delivery → index in bs
	var ids []any
	for i, b := range bs {
		if b.DeliveryID != 0 && (b.Class == classify.Hard || b.Class == classify.Soft) && !b.NotABounce {
			at[b.DeliveryID] = i
			ids = append(ids, b.DeliveryID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+bounceCols+` FROM bounces
		WHERE delivery_id IN (?`+strings.Repeat(",?", len(ids)-1)+`) AND class IN ('hard','soft') AND not_a_bounce = 0
		ORDER BY id`, ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		o, err := scanBounce(rows)
		if err != nil {
			return err
		}
		if p := &bs[at[o.DeliveryID]]; p.ID != o.ID {
			p.Also = append(p.Also, o)
		}
	}
	return rows.Err()
}

// ByID returns one bounce with its raw message.
func (s *Service) ByID(ctx context.Context, id int64) (Bounce, error) {
	var raw []byte
	row := s.db.QueryRowContext(ctx, "SELECT "+bounceCols+", raw FROM bounces WHERE id = ?", id)
	b, err := scanBounce(row, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return Bounce{}, fmt.Errorf("loading bounce %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Bounce{}, fmt.Errorf("loading bounce %d: %w", id, err)
	}
	b.Raw = raw
	return b, nil
}

// Alert is a refusal for policy, authentication or reputation that the
// operator should look at.
type Alert struct {
	ID       int64
	Created  time.Time
	BounceID int64
	Kind     string // policy-refusal
	Domain   string // the receiving domain
	Status   string
	Detail   string
}

// Alerts returns the operator alerts, newest first (at most 500).
func (s *Service) Alerts(ctx context.Context) ([]Alert, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, created, COALESCE(bounce_id,0), kind, domain, status, detail
		FROM bounce_alerts ORDER BY created DESC, id DESC LIMIT 500`)
	if err != nil {
		return nil, fmt.Errorf("listing alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		var a Alert
		var created int64
		if err := rows.Scan(&a.ID, &created, &a.BounceID, &a.Kind, &a.Domain, &a.Status, &a.Detail); err != nil {
			return nil, fmt.Errorf("listing alerts: %w", err)
		}
		a.Created = time.Unix(created, 0).UTC()
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing alerts: %w", err)
	}
	return out, nil
}

// CountsByIssue returns how many bounces of each class an issue had,
// leaving out those staff marked not a bounce and counting a failed
// delivery reported twice once (as List shows it).
func (s *Service) CountsByIssue(ctx context.Context, issueID int64) (map[classify.Class]int, error) {
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(onePerDelivery, "WHERE issue_id = ? AND not_a_bounce = 0")+
		` SELECT class, COUNT(*) FROM bounces WHERE id IN (SELECT id FROM firsts) GROUP BY class`, issueID)
	if err != nil {
		return nil, fmt.Errorf("counting bounces of issue %d: %w", issueID, err)
	}
	defer rows.Close()
	out := map[classify.Class]int{}
	for rows.Next() {
		var c classify.Class
		var n int
		if err := rows.Scan(&c, &n); err != nil {
			return nil, fmt.Errorf("counting bounces of issue %d: %w", issueID, err)
		}
		out[c] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting bounces of issue %d: %w", issueID, err)
	}
	return out, nil
}
