package newsletter

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"kawaraban/bounces"
	"kawaraban/mailer"
	"kawaraban/progress"
	"kawaraban/subscribers"
	"kawaraban/templates"
	"kawaraban/token"
)

// systemSendTimeout bounds how long one system mail (confirmation,
// reminder, test send) may keep retrying a relay that answers 4xx or is
// down: Send itself retries until its context ends.
const systemSendTimeout = 30 * time.Second

// ProgressFromName is the sender name of the plan's reminders and digests.
const ProgressFromName = "京都市 市民参加推進計画 進捗管理"

// SystemOptions configures SystemMail.
type SystemOptions struct {
	// ReturnPathDomain receives the bounces of system mail too, at
	// bounces.SystemReturnPath: signed for the recipient with Signer.
	ReturnPathDomain string
	Signer           *token.Signer
	// ProgressFrom and ProgressFromName send the plan's reminders.
	ProgressFrom, ProgressFromName string
	// Location is the zone a confirmation's expiry is shown in.
	Location *time.Location
	Now      func() time.Time
	Logger   *slog.Logger
	// QueueSize is the in-memory confirmation queue (0: send inline).
	QueueSize int
}

// SystemMail sends mail that is not an issue: confirmations (through the
// mailer's persistent queue), test sends, and the plan's reminders.
type SystemMail struct {
	mail *mailer.Mailer
	tmpl *templates.Set
	opt  SystemOptions
	ch   chan subscribers.Confirmation
}

// NewSystemMail returns a SystemMail sending through m.
func NewSystemMail(m *mailer.Mailer, tmpl *templates.Set, opt SystemOptions) *SystemMail {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Location == nil {
		opt.Location = time.Local
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	s := &SystemMail{mail: m, tmpl: tmpl, opt: opt}
	if opt.QueueSize > 0 {
		s.ch = make(chan subscribers.Confirmation, opt.QueueSize)
	}
	return s
}

// Send sends msg at once (bounded by systemSendTimeout).
func (s *SystemMail) Send(ctx context.Context, msg *mailer.Message) (mailer.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, systemSendTimeout)
	defer cancel()
	s.returnPath(msg)
	return s.mail.Send(ctx, msg)
}

// returnPath sends the bounces of system mail to the bounce mailbox too
// (not to a center's inbox), at an address that signs the recipient
// (bounces.SystemReturnPath): a bounce naming that recipient acts, so a
// mistyped address stops getting confirmation mail; a report naming anyone
// else stays unverified (issue 15). Without a Signer: bounces@domain.
func (s *SystemMail) returnPath(msg *mailer.Message) {
	switch {
	case msg.ReturnPath != "" || s.opt.ReturnPathDomain == "":
	case s.opt.Signer != nil:
		msg.ReturnPath = bounces.SystemReturnPath(s.opt.Signer, s.opt.ReturnPathDomain, msg.To)
	default:
		msg.ReturnPath = "bounces@" + s.opt.ReturnPathDomain
	}
}

// SendConfirmation implements subscribers.Confirmer. With a queue the mail
// is handed to RunConfirmations, so that the response time of /subscribe
// does not tell whether a mail went out (no enumeration).
func (s *SystemMail) SendConfirmation(ctx context.Context, cf subscribers.Confirmation) error {
	if s.ch != nil {
		select {
		case s.ch <- cf:
			return nil
		default: // queue full: send inline rather than drop
		}
	}
	return s.sendConfirmation(ctx, cf)
}

func (s *SystemMail) sendConfirmation(ctx context.Context, cf subscribers.Confirmation) error {
	msg, err := s.confirmationMessage(cf)
	if err != nil || msg == nil {
		return err
	}
	_, err = s.Send(ctx, msg)
	return err
}

// confirmationMessage renders the confirmation mail, or nil when cf names
// no list.
func (s *SystemMail) confirmationMessage(cf subscribers.Confirmation) (*mailer.Message, error) {
	if len(cf.Lists) == 0 {
		return nil, nil
	}
	l := cf.Lists[0]
	parts, err := s.tmpl.System("confirmation", cf.Lang, templates.SystemData{
		List: ListInfo(l), Name: cf.Name, Email: cf.To, ConfirmURL: cf.ConfirmURL,
		ExpiresAt: s.opt.Now().Add(subscribers.ConfirmTTL).In(s.opt.Location),
	})
	if err != nil {
		return nil, fmt.Errorf("rendering confirmation: %w", err)
	}
	return &mailer.Message{
		FromName: l.FromName, FromAddress: l.FromAddress, To: cf.To, ToName: cf.Name,
		Subject: parts.Subject, Text: parts.Text, HTML: parts.HTML, AutoSubmitted: true,
	}, nil
}

// RunConfirmations moves confirmation requests from the in-memory queue
// into the mailer's persistent queue (which the daemon sends and retries:
// a crash or relay outage delays a mail instead of losing it) until ctx
// ends, then drains what is left.
func (s *SystemMail) RunConfirmations(ctx context.Context) error {
	if s.ch == nil {
		<-ctx.Done()
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			s.drain()
			return nil
		case cf := <-s.ch:
			s.store(ctx, cf)
		}
	}
}

func (s *SystemMail) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		select {
		case cf := <-s.ch:
			s.store(ctx, cf)
		default:
			return
		}
	}
}

// store queues one confirmation mail, or sends it at once when the queue
// cannot take it.
func (s *SystemMail) store(ctx context.Context, cf subscribers.Confirmation) {
	msg, err := s.confirmationMessage(cf)
	if err == nil && msg != nil {
		s.returnPath(msg)
		err = s.mail.Enqueue(ctx, "confirmation", msg)
	}
	if err == nil {
		return
	}
	s.opt.Logger.Warn("confirmation mail not queued; sending it now", "subscriber_id", cf.SubscriberID, "err", err)
	if err := s.sendConfirmation(ctx, cf); err != nil {
		s.opt.Logger.Error("confirmation mail not sent", "subscriber_id", cf.SubscriberID, "err", err)
	}
}

// SendSystem implements progress.Sender: reminders and digests. Each Cc
// address gets its own copy of the same message.
func (s *SystemMail) SendSystem(ctx context.Context, m progress.Mail) error {
	msg := &mailer.Message{
		FromName: s.opt.ProgressFromName, FromAddress: s.opt.ProgressFrom,
		To: m.To, ToName: m.ToName, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
		AutoSubmitted: m.AutoSubmitted, Headers: m.Headers,
	}
	if m.Cc != "" {
		msg.Headers = append(append([][2]string(nil), msg.Headers...), [2]string{"Cc", m.Cc})
	}
	if _, err := s.Send(ctx, msg); err != nil {
		return err
	}
	for _, cc := range strings.Split(m.Cc, ",") {
		if cc = strings.TrimSpace(cc); cc != "" {
			c := *msg
			c.To, c.ToName, c.MessageID = cc, "", ""
			if _, err := s.Send(ctx, &c); err != nil {
				return err
			}
		}
	}
	return nil
}
