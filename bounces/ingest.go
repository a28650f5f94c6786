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
// VERP token in the envelope recipient, the returned message's Message-ID
// or X-Kawaraban-Delivery header, then the recipient the report names.
func (s *Service) attribute(ctx context.Context, ev *event, rh rawHeader, rep *classify.Report, rc classify.Recipient) error {
	if s.deps.VERP != nil {
		for _, addr := range append(rh.envelopeTo, rep.EnvelopeTo...) {
			id, ok := s.deps.VERP.ParseVERP(addr)
			if !ok {
				continue
			}
			ev.verp = true
			if s.deps.Deliveries == nil {
				ev.d, ev.by, ev.email = Delivery{ID: id}, "verp", rc.Address
				return nil
			}
			found, err := s.byID(ctx, ev, id, "verp")
			if err != nil || found {
				return err
			}
		}
	}
	if s.deps.Deliveries != nil {
		if rep.OriginalMessageID != "" {
			d, ok, err := s.deps.Deliveries.ByMessageID(ctx, rep.OriginalMessageID)
			if err != nil {
				return fmt.Errorf("looking up delivery by message-id: %w", err)
			}
			if ok {
				ev.d, ev.by, ev.email = d, "message-id", d.Email
				return nil
			}
		}
		for _, v := range headerValues(rep.OriginalHeaders, DeliveryHeader) {
			id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || id <= 0 {
				continue
			}
			found, err := s.byID(ctx, ev, id, "delivery-header")
			if err != nil || found {
				return err
			}
		}
	}
	ev.email, ev.by = rc.Address, "recipient"
	if ev.email == "" {
		ev.by = "none"
	}
	return nil
}

func (s *Service) byID(ctx context.Context, ev *event, id int64, by string) (bool, error) {
	d, ok, err := s.deps.Deliveries.ByID(ctx, id)
	if err != nil {
		return false, fmt.Errorf("looking up delivery %d: %w", id, err)
	}
	if ok {
		ev.d, ev.by, ev.email = d, by, d.Email
	}
	return ok, nil
}

func headerValues(h map[string][]string, key string) []string {
	for k, v := range h {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}
