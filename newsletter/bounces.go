package newsletter

import (
	"context"
	"log/slog"
	"strings"

	"kawaraban/bounces"
	"kawaraban/issues"
	"kawaraban/mailer"
	"kawaraban/subscribers"
)

// Attribution joins bounces to the rest: it finds a bounce's delivery with
// its issue and list (bounces.DeliveryLookup), records 5xx answers at send
// time (mailer.BounceRecorder), applies the policy to subscribers
// (bounces.Suppressor), keeps erased addresses out of the bounce records
// (bounces.Erasures) and handles inbound commands (bounces.Joiner,
// bounces.Unsubscriber).
type Attribution struct {
	mail   *mailer.Mailer
	issues *issues.Store
	subs   *subscribers.Store
	// Bounces records send-time failures. It is built after the mailer
	// (which needs this value), so cmd sets it once both exist.
	Bounces *bounces.Service
	log     *slog.Logger
}

// NewAttribution returns the glue over the three stores; log may be nil.
func NewAttribution(m *mailer.Mailer, is *issues.Store, subs *subscribers.Store, log *slog.Logger) *Attribution {
	return &Attribution{mail: m, issues: is, subs: subs, log: log}
}

func (a *Attribution) delivery(ctx context.Context, d mailer.Delivery, ok bool, err error) (bounces.Delivery, bool, error) {
	if err != nil || !ok {
		return bounces.Delivery{}, ok, err
	}
	out := bounces.Delivery{ID: d.ID, IssueID: d.IssueID, SubscriberID: d.SubscriberID, Email: d.Email}
	out.ListID = a.listOf(ctx, d)
	return out, true, nil
}

// listOf is the list the delivery was sent for (of a joint issue, the
// recipient's list), else its issue's list; 0 when unknown.
func (a *Attribution) listOf(ctx context.Context, d mailer.Delivery) int64 {
	if d.ListID != 0 {
		return d.ListID
	}
	issueID := d.IssueID
	if issueID == 0 {
		return 0
	}
	is, err := a.issues.ByID(ctx, issueID)
	if err != nil {
		return 0
	}
	return is.ListID
}

// ByID implements bounces.DeliveryLookup.
func (a *Attribution) ByID(ctx context.Context, id int64) (bounces.Delivery, bool, error) {
	d, ok, err := a.mail.DeliveryByID(ctx, id)
	return a.delivery(ctx, d, ok, err)
}

// ByMessageID implements bounces.DeliveryLookup.
func (a *Attribution) ByMessageID(ctx context.Context, msgID string) (bounces.Delivery, bool, error) {
	d, ok, err := a.mail.DeliveryByMessageID(ctx, msgID)
	return a.delivery(ctx, d, ok, err)
}

// RecordSendFailure implements mailer.BounceRecorder.
func (a *Attribution) RecordSendFailure(ctx context.Context, d mailer.Delivery, e *mailer.Error) error {
	return a.Bounces.RecordSendFailure(ctx, bounces.Delivery{
		ID: d.ID, IssueID: d.IssueID, SubscriberID: d.SubscriberID, Email: d.Email, ListID: a.listOf(ctx, d),
	}, e.Code, e.Enhanced, e.Text)
}

// NoteDelivered hears the recipients the outbox delivered
// (mailer.Options.OnDelivered): their bounce scores start again.
func (a *Attribution) NoteDelivered(ctx context.Context, emails []string) {
	if err := a.Bounces.NoteDelivered(ctx, emails...); err != nil && a.log != nil {
		a.log.Warn("resetting bounce scores of delivered recipients", "count", len(emails), "err", err)
	}
}

// Suppress implements bounces.Suppressor.
func (a *Attribution) Suppress(ctx context.Context, email, reason, detail string) error {
	return a.subs.Suppress(ctx, email, reason, detail)
}

// Unsuppress implements bounces.Suppressor.
func (a *Attribution) Unsuppress(ctx context.Context, email, actor string) error {
	return a.subs.Unsuppress(ctx, email, actor)
}

// UnsubscribeAll implements bounces.Suppressor (a complaint).
func (a *Attribution) UnsubscribeAll(ctx context.Context, email, source string, ev bounces.Evidence) error {
	return a.subs.UnsubscribeAll(ctx, email, source, subscribers.Evidence{
		MessageID: ev.MessageID, Actor: strings.TrimSpace("bounces " + ev.FeedbackType),
	})
}

// StillErased implements bounces.Erasures: subscribers, which owns
// erasures, says whether email was erased and has not come back, and
// gives the keyed hash that stands for it.
func (a *Attribution) StillErased(ctx context.Context, email string) (string, bool, error) {
	return a.subs.StillErased(ctx, email)
}

// SubscribeByMail implements bounces.Joiner (空メール to a join address).
func (a *Attribution) SubscribeByMail(ctx context.Context, email, listSlug, messageID string) error {
	return a.subs.SubscribeByMail(ctx, email, listSlug, messageID)
}

// UnsubscribeByToken implements bounces.Unsubscriber (mail to the
// List-Unsubscribe mailto address).
func (a *Attribution) UnsubscribeByToken(ctx context.Context, tok, source, messageID string) error {
	_, err := a.subs.UnsubscribeByToken(ctx, tok, source, subscribers.Evidence{MessageID: messageID})
	return err
}

// Stats are a list's dashboard figures.
type Stats struct {
	Confirmed int
	// BounceRate and ComplaintRate are over the list's last ten issues:
	// bounced (or complained) deliveries per delivery attempted, 0..1.
	BounceRate, ComplaintRate float64
}

// ListStats computes a list's dashboard figures. A joint issue counts for
// each list only the deliveries sent for it, so that the lists' figures
// add up to the issue's.
func (a *Attribution) ListStats(ctx context.Context, listID int64) (Stats, error) {
	st, err := a.subs.Stats(ctx, listID)
	if err != nil {
		return Stats{}, err
	}
	out := Stats{Confirmed: st.Confirmed}
	iss, err := a.issues.ListByList(ctx, listID, issues.Page{Limit: 10})
	if err != nil {
		return Stats{}, err
	}
	var total, bounced, complaints int
	for _, is := range iss {
		if is.Recipients == nil {
			continue
		}
		p, c, err := a.issueFigures(ctx, is, listID)
		if err != nil {
			return Stats{}, err
		}
		total += p.Sent + p.Bounced + p.Failed
		bounced += p.Bounced
		complaints += c
	}
	if total > 0 {
		out.BounceRate, out.ComplaintRate = float64(bounced)/float64(total), float64(complaints)/float64(total)
	}
	return out, nil
}

// issueFigures are an issue's delivery counts and complaints, of a joint
// issue only those of listID's readers.
func (a *Attribution) issueFigures(ctx context.Context, is issues.Issue, listID int64) (mailer.Progress, int, error) {
	if !is.Joint() {
		p, err := a.mail.Progress(ctx, is.ID)
		if err != nil {
			return p, 0, err
		}
		c, err := a.Bounces.Complaints(ctx, is.ID)
		return p, c, err
	}
	p, err := a.mail.ProgressOn(ctx, is.ID, listID)
	if err != nil {
		return p, 0, err
	}
	c, err := a.Bounces.ComplaintsOn(ctx, is.ID, listID)
	return p, c, err
}
