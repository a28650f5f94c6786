package bounces

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"kawaraban/bounces/classify"
)

// DeliveryHeader is the header kawaraban's own mail carries with its
// delivery id; it comes back in the returned message of a bounce.
const DeliveryHeader = "X-Kawaraban-Delivery"

// kind is what a message turned out to be for the IMAP reader.
type kind int

const (
	kindNotOurs kind = iota // a citizen's reply: leave it alone
	kindBounce
	kindCommand
)

// ingest handles one raw message read from src: an inbound command, a
// bounce, or mail that is not ours. It is safe to call again for the same
// message.
func (s *Service) ingest(ctx context.Context, src source, raw []byte, st *Stats) (kind, error) {
	rh := readRawHeader(raw)
	rep, err := classify.Parse(raw)
	if err != nil || rep == nil || !classValid(rep.Class) {
		rep = &classify.Report{Class: classify.Other}
	}
	// A bounce of mail sent from a join address is a bounce, not a join:
	// answering it would mail a confirmation to a MAILER-DAEMON.
	isReport := rep.Class != classify.Other && rep.Class != classify.AutoReply
	if cmd, ok := s.commandFor(rh); ok && !isReport {
		cmd.src, cmd.messageID, cmd.from, cmd.automatic = src, rh.messageID, rh.from, rh.auto
		if err := s.command(ctx, cmd, raw, st); err != nil {
			return kindCommand, err
		}
		return kindCommand, nil
	}
	ev := &event{src: src, received: s.opt.Now(), class: rep.Class, format: rep.Format,
		feedbackType: rep.FeedbackType, raw: raw}
	ev.messageID = rh.messageID
	if ev.messageID == "" {
		ev.messageID = rep.MessageID
	}
	ev.dedupeKey = dedupeKey(ev.messageID, raw)
	rc := mainRecipient(rep)
	ev.status, ev.action, ev.diagnostic, ev.remoteMTA = rc.Status, rc.Action, rc.Diagnostic, rc.RemoteMTA
	ev.reason, ev.why = rc.Reason, rc.Why
	for _, r := range rep.Recipients {
		ev.named = append(ev.named, r.Address)
	}
	if err := s.attribute(ctx, ev, rh, rep, rc); err != nil {
		return kindBounce, err
	}
	if ev.class == classify.Other && !ev.verp {
		st.NotOurs++
		return kindNotOurs, nil
	}
	r, err := s.record(ctx, ev)
	if err != nil {
		return kindBounce, err
	}
	switch {
	case r.duplicate:
		st.Duplicates++
		return kindBounce, nil
	case r.retried:
		st.Retried++
	default:
		st.Bounces++
	}
	switch r.outcome {
	case OutcomeSuppressed, OutcomeUnsubscribed:
		st.Suppressed++
	case OutcomeAlert:
		st.Alerts++
	}
	return kindBounce, nil
}

// mainRecipient picks the recipient the report's class is about.
func mainRecipient(rep *classify.Report) classify.Recipient {
	for _, rc := range rep.Recipients {
		if rc.Class == rep.Class {
			return rc
		}
	}
	if len(rep.Recipients) > 0 {
		return rep.Recipients[0]
	}
	return classify.Recipient{}
}

// attribute ties ev to a delivery, in the order of DESIGN.md flow 4: the
// VERP token in the envelope recipient, then the returned message's
// Message-ID or X-Kawaraban-Delivery header. Only these tie a report to a
// delivery we made, so only they set ev.verified. The returned
// X-Kawaraban-Delivery header is a bare id, so it is trusted only when the
// report names the recipient the delivery went to. The returned Message-ID
// is signed by the mailer (kawaraban.<issue>.<delivery>.<tag>@…), so it is
// trusted when the report names that recipient or none (feedback loops
// redact it), never when it names someone else. Anything else falls back
// to the recipient the report names, unverified: anyone can mail the
// return path, so such a report changes nothing until staff act on it
// (Service.Verify).
func (s *Service) attribute(ctx context.Context, ev *event, rh rawHeader, rep *classify.Report, rc classify.Recipient) error {
	if s.deps.VERP != nil {
		for _, addr := range append(rh.envelopeTo, rep.EnvelopeTo...) {
			id, ok := s.deps.VERP.ParseVERP(addr)
			if !ok {
				continue
			}
			ev.verp = true
			if s.deps.Deliveries == nil {
				ev.d, ev.by, ev.email, ev.verified = Delivery{ID: id}, "verp", rc.Address, true
				return nil
			}
			d, found, err := s.byID(ctx, id)
			if err != nil {
				return err
			}
			if found {
				ev.d, ev.by, ev.email, ev.verified = d, "verp", d.Email, true
				return nil
			}
		}
	}
	for _, addr := range append(rh.envelopeTo, rep.EnvelopeTo...) {
		if systemReturn(s.opt.Signer, addr, rc.Address) {
			// Our own system mail to the recipient the report names.
			ev.by, ev.email, ev.verified = "system", rc.Address, true
			return nil
		}
	}
	if s.deps.Deliveries != nil {
		d, by, err := s.returnedDelivery(ctx, rep)
		if err != nil {
			return err
		}
		switch {
		case by != "" && rc.Address != "" && strings.EqualFold(rc.Address, d.Email),
			by == "message-id" && rc.Address == "":
			// A feedback loop that redacts the recipient still returns the
			// Message-ID, which is signed (mailer) and so cannot be guessed.
			ev.d, ev.by, ev.email, ev.verified = d, by, d.Email, true
			return nil
		case by != "":
			// Evidence for staff, but no proof: the report names another
			// recipient (or none) than the delivery went to.
			ev.claim = fmt.Sprintf("the returned message's %s names delivery %d (issue %d, subscriber %d), but the report names %s",
				by, d.ID, d.IssueID, d.SubscriberID, orNone(rc.Address))
			ev.claimed = d
		}
	}
	ev.email, ev.by = rc.Address, "recipient"
	if ev.email == "" && ev.claimed.Email != "" {
		ev.email, ev.by = ev.claimed.Email, "claimed"
	}
	if ev.email == "" {
		ev.by = "none"
	}
	return nil
}

// returnedDelivery finds the delivery the returned message's Message-ID or
// X-Kawaraban-Delivery header names; by is "" when there is none.
func (s *Service) returnedDelivery(ctx context.Context, rep *classify.Report) (d Delivery, by string, err error) {
	if rep.OriginalMessageID != "" {
		d, ok, err := s.deps.Deliveries.ByMessageID(ctx, rep.OriginalMessageID)
		if err != nil {
			return Delivery{}, "", fmt.Errorf("looking up delivery by message-id: %w", err)
		}
		if ok {
			return d, "message-id", nil
		}
	}
	for _, v := range headerValues(rep.OriginalHeaders, DeliveryHeader) {
		id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || id <= 0 {
			continue
		}
		d, found, err := s.byID(ctx, id)
		if err != nil || found {
			return d, "delivery-header", err
		}
	}
	return Delivery{}, "", nil
}

func orNone(s string) string {
	if s == "" {
		return "no recipient"
	}
	return s
}

func (s *Service) byID(ctx context.Context, id int64) (Delivery, bool, error) {
	d, ok, err := s.deps.Deliveries.ByID(ctx, id)
	if err != nil {
		return Delivery{}, false, fmt.Errorf("looking up delivery %d: %w", id, err)
	}
	return d, ok, nil
}

func headerValues(h map[string][]string, key string) []string {
	for k, v := range h {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}
