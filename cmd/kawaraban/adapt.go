package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"kawaraban/bounces"
	"kawaraban/issues"
	"kawaraban/mailer"
	"kawaraban/progress"
	"kawaraban/subscribers"
	"kawaraban/templates"
)

// The adapters below connect the packages' consumer-side interfaces. They
// hold no logic beyond translating types.

// confirmer sends subscription confirmation mails (subscribers.Confirmer).
// The mail is queued and sent in the background, so that the response time
// of /subscribe does not tell whether a mail went out (no enumeration).
type confirmer struct{ a *app }

func (c confirmer) SendConfirmation(ctx context.Context, cf subscribers.Confirmation) error {
	if q := c.a.confirmQueue(); q != nil {
		select {
		case q <- cf:
			return nil
		default: // queue full: send inline rather than drop
		}
	}
	return c.a.sendConfirmation(ctx, cf)
}

func (a *app) sendConfirmation(ctx context.Context, cf subscribers.Confirmation) error {
	msg, err := a.confirmationMessage(cf)
	if err != nil || msg == nil {
		return err
	}
	_, err = a.sendSystem(ctx, msg)
	return err
}

// queueConfirmation stores the confirmation mail in the mailer's queue,
// which the daemon sends and retries: a crash or a relay outage delays it
// instead of losing it.
func (a *app) queueConfirmation(ctx context.Context, cf subscribers.Confirmation) error {
	msg, err := a.confirmationMessage(cf)
	if err != nil || msg == nil {
		return err
	}
	a.systemReturnPath(msg)
	return a.mail.Enqueue(ctx, "confirmation", msg)
}

// confirmationMessage renders the confirmation mail, or nil when cf names
// no list.
func (a *app) confirmationMessage(cf subscribers.Confirmation) (*mailer.Message, error) {
	if len(cf.Lists) == 0 {
		return nil, nil
	}
	l := cf.Lists[0]
	parts, err := a.tmpl.System("confirmation", cf.Lang, templates.SystemData{
		List: listInfo(l), Name: cf.Name, Email: cf.To, ConfirmURL: cf.ConfirmURL,
		ExpiresAt: a.now().Add(subscribers.ConfirmTTL).In(a.e.location()),
	})
	if err != nil {
		return nil, fmt.Errorf("rendering confirmation: %w", err)
	}
	return &mailer.Message{
		FromName: l.FromName, FromAddress: l.FromAddress, To: cf.To, ToName: cf.Name,
		Subject: parts.Subject, Text: parts.Text, HTML: parts.HTML, AutoSubmitted: true,
	}, nil
}

// systemSendTimeout bounds how long one system mail (confirmation,
// reminder, test send) may keep retrying a relay that answers 4xx or is
// down: Send itself retries until its context ends.
const systemSendTimeout = 30 * time.Second

func (a *app) sendSystem(ctx context.Context, msg *mailer.Message) (mailer.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, systemSendTimeout)
	defer cancel()
	a.systemReturnPath(msg)
	return a.mail.Send(ctx, msg)
}

// systemReturnPath sends the bounces of system mail to the bounce mailbox
// too (not to a center's inbox), where the policy reads them by the failed
// recipient: a mistyped address stops getting confirmation mail.
func (a *app) systemReturnPath(msg *mailer.Message) {
	if msg.ReturnPath == "" && a.e.cfg.Bounce.ReturnPathDomain != "" {
		msg.ReturnPath = "bounces@" + a.e.cfg.Bounce.ReturnPathDomain
	}
}

// confirmations is the background queue behind confirmer.
type confirmations struct {
	ch chan subscribers.Confirmation
}

func (a *app) confirmQueue() chan subscribers.Confirmation {
	if a.confirms == nil {
		return nil
	}
	return a.confirms.ch
}

// runConfirmations moves confirmation requests from the in-memory channel
// (which keeps /subscribe's answer time the same for every address) into
// the mailer's queue until ctx ends, then drains what is left.
func (a *app) runConfirmations(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			a.drainConfirmations()
			return nil
		case cf := <-a.confirms.ch:
			a.storeConfirmation(ctx, cf)
		}
	}
}

func (a *app) drainConfirmations() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		select {
		case cf := <-a.confirms.ch:
			a.storeConfirmation(ctx, cf)
		default:
			return
		}
	}
}

// storeConfirmation queues one confirmation mail, or sends it at once when
// the queue cannot take it.
func (a *app) storeConfirmation(ctx context.Context, cf subscribers.Confirmation) {
	err := a.queueConfirmation(ctx, cf)
	if err == nil {
		return
	}
	a.e.log.Warn("confirmation mail not queued; sending it now", "subscriber_id", cf.SubscriberID, "err", err)
	if err := a.sendConfirmation(ctx, cf); err != nil {
		a.e.log.Error("confirmation mail not sent", "subscriber_id", cf.SubscriberID, "err", err)
	}
}

func listInfo(l subscribers.List) templates.ListInfo {
	return templates.ListInfo{
		Slug: l.Slug, NameJA: l.NameJA, NameEN: l.NameEN, FromName: l.FromName, FromAddress: l.FromAddress,
		PostalAddress: l.PostalAddress, Contact: l.Contact, NameFallback: l.NameFallback, Encoding: l.Encoding,
	}
}

// systemSender sends progress reminders and digests (progress.Sender).
type systemSender struct{ a *app }

func (s systemSender) SendSystem(ctx context.Context, m progress.Mail) error {
	msg := &mailer.Message{
		FromName: "京都市 市民参加推進計画 進捗管理", FromAddress: progressFrom(s.a.e.cfg),
		To: m.To, ToName: m.ToName, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
		AutoSubmitted: m.AutoSubmitted, Headers: m.Headers,
	}
	if m.Cc != "" {
		msg.Headers = append(append([][2]string(nil), msg.Headers...), [2]string{"Cc", m.Cc})
	}
	if _, err := s.a.sendSystem(ctx, msg); err != nil {
		return err
	}
	// Each Cc address gets its own copy of the same message.
	for _, cc := range strings.Split(m.Cc, ",") {
		if cc = strings.TrimSpace(cc); cc != "" {
			c := *msg
			c.To, c.ToName, c.MessageID = cc, "", ""
			if _, err := s.a.sendSystem(ctx, &c); err != nil {
				return err
			}
		}
	}
	return nil
}

// sendFailures records 5xx answers at send time as bounces
// (mailer.BounceRecorder → bounces).
type sendFailures struct{ a *app }

func (s sendFailures) RecordSendFailure(ctx context.Context, d mailer.Delivery, e *mailer.Error) error {
	return s.a.bounces.RecordSendFailure(ctx, bounces.Delivery{
		ID: d.ID, IssueID: d.IssueID, SubscriberID: d.SubscriberID, Email: d.Email,
	}, e.Code, e.Enhanced, e.Text)
}

// deliveryLookup finds deliveries for bounce attribution (bounces.DeliveryLookup).
type deliveryLookup struct{ a *app }

func (l deliveryLookup) ByID(ctx context.Context, id int64) (bounces.Delivery, bool, error) {
	d, ok, err := l.a.mail.DeliveryByID(ctx, id)
	return bounces.Delivery{ID: d.ID, IssueID: d.IssueID, SubscriberID: d.SubscriberID, Email: d.Email}, ok, err
}

func (l deliveryLookup) ByMessageID(ctx context.Context, msgID string) (bounces.Delivery, bool, error) {
	d, ok, err := l.a.mail.DeliveryByMessageID(ctx, msgID)
	return bounces.Delivery{ID: d.ID, IssueID: d.IssueID, SubscriberID: d.SubscriberID, Email: d.Email}, ok, err
}

// suppressor applies the bounce policy to subscribers (bounces.Suppressor).
type suppressor struct{ a *app }

func (s suppressor) Suppress(ctx context.Context, email, reason, detail string) error {
	return s.a.subs.Suppress(ctx, email, reason, detail)
}

func (s suppressor) Unsuppress(ctx context.Context, email, actor string) error {
	return s.a.subs.Unsuppress(ctx, email, actor)
}

func (s suppressor) UnsubscribeAll(ctx context.Context, email, source string, ev bounces.Evidence) error {
	return s.a.subs.UnsubscribeAll(ctx, email, source, subscribers.Evidence{
		MessageID: ev.MessageID, Actor: strings.TrimSpace("bounces " + ev.FeedbackType),
	})
}

// joiner handles 空メール to a join address (bounces.Joiner).
type joiner struct{ a *app }

func (j joiner) SubscribeByMail(ctx context.Context, email, listSlug, messageID string) error {
	return j.a.subs.SubscribeByMail(ctx, email, listSlug, messageID)
}

// mailUnsubscriber handles mail to the List-Unsubscribe mailto address
// (bounces.Unsubscriber).
type mailUnsubscriber struct{ a *app }

func (u mailUnsubscriber) UnsubscribeByToken(ctx context.Context, tok, source, messageID string) error {
	_, err := u.a.subs.UnsubscribeByToken(ctx, tok, source, subscribers.Evidence{MessageID: messageID})
	return err
}

// recipients streams a list's recipients into the outbox snapshot
// (mailer.RecipientSource).
type recipients struct{ a *app }

func (r recipients) EachRecipient(ctx context.Context, tx *sql.Tx, listID int64, fn func(mailer.Recipient) error) error {
	return r.a.subs.EachRecipient(ctx, tx, listID, func(s subscribers.Recipient) error {
		return fn(mailer.Recipient{SubscriberID: s.SubscriberID, Email: s.Email, Name: s.Name})
	})
}

// outbox lets issues start a send (issues.Outbox).
type outbox struct{ a *app }

func (o outbox) Snapshot(ctx context.Context, issueID, listID int64) (int, error) {
	n, err := o.a.mail.Snapshot(ctx, issueID, listID, recipients(o))
	if err != nil {
		return n, err
	}
	// A pause or cancel that came while the snapshot was being made found
	// no outbox run to stop: apply it now that the run exists.
	is, err := o.a.issues.ByID(ctx, issueID)
	if err != nil {
		return n, err
	}
	switch is.Status {
	case issues.StatusPaused:
		err = o.a.mail.Pause(ctx, issueID)
	case issues.StatusCancelled:
		err = o.a.mail.Cancel(ctx, issueID)
	}
	return n, err
}

var _ issues.Outbox = outbox{}
