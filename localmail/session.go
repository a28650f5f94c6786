package localmail

import (
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// errDropped is returned after a fault hook dropped the connection; the
// client never sees it.
var errDropped = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "connection dropped"}

var errClosing = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "server shutting down"}

// session is one SMTP connection's state. go-smtp calls its methods from
// the connection's goroutine only.
type session struct {
	s       *SMTP
	conn    *smtp.Conn
	connSeq int64
	authed  bool
	txOpen  atomic.Bool // counted in SMTP.inTx

	msg     int64
	from    string
	arrival time.Time
	envID   string
	rcpts   []string
}

func (x *session) Reset() {
	x.endTx()
	x.msg, x.from, x.envID, x.rcpts = 0, "", "", nil
}

// Logout may be called from another goroutine (Close), so it touches only
// what is safe for that.
func (x *session) Logout() error {
	x.endTx()
	x.s.track(x.conn, false)
	return nil
}

func (x *session) endTx() {
	if x.txOpen.CompareAndSwap(true, false) {
		x.s.inTx.Add(-1)
	}
}

// AuthMechanisms offers PLAIN only when a username is configured; with none
// AUTH is not advertised.
func (x *session) AuthMechanisms() []string {
	if x.s.opt.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(mech string) (sasl.Server, error) {
	if x.s.opt.Username == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.s.opt.Username || pass != x.s.opt.Password {
			return smtp.ErrAuthFailed // a plain error would be a temporary 454
		}
		x.authed = true
		return nil
	}), nil
}

func (x *session) Mail(from string, opts *smtp.MailOptions) error {
	if x.s.opt.Username != "" && !x.authed {
		return smtp.ErrAuthRequired
	}
	if x.txOpen.CompareAndSwap(false, true) {
		x.s.inTx.Add(1)
	}
	x.msg = x.s.msgSeq.Add(1)
	x.from, x.arrival = from, x.s.opt.Now()
	if opts != nil {
		x.envID = opts.EnvelopeID
	}
	if handled, err := x.injected(Event{Stage: StageMail, From: from}, nil); handled {
		return err
	}
	return nil
}

func (x *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	if handled, err := x.injected(Event{Stage: StageRcpt, From: x.from, To: to}, nil); handled {
		return err
	}
	if isInvalidDomain(to) {
		x.bounce(to, opts)
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
			Message: "<" + to + ">: Recipient address rejected: " + invalidReason}
	}
	x.rcpts = append(x.rcpts, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	ev := Event{Stage: StageData, From: x.from, Rcpts: slices.Clone(x.rcpts)}
	if handled, err := x.injected(ev, r); handled {
		return err
	}
	var data []byte
	var err error
	if x.s.opt.CountOnly {
		_, err = io.Copy(io.Discard, r)
	} else {
		data, err = io.ReadAll(r)
	}
	if err != nil {
		return err // ErrDataTooLarge or a broken connection
	}
	return x.s.accept(x.from, x.rcpts, data)
}

// injected asks the fault hook about ev and carries out its Action. It
// reports whether the Action decided the answer; r is the message at
// StageData.
func (x *session) injected(ev Event, r io.Reader) (bool, error) {
	fp := x.s.fault.Load()
	if fp == nil {
		return false, nil
	}
	ev.Conn, ev.Msg = x.connSeq, x.msg
	a := (*fp)(ev)
	if a.Stall > 0 && !x.s.stall(a.Stall) {
		_ = x.conn.Conn().Close()
		return true, errClosing
	}
	switch {
	case a.Drop:
		if r != nil && a.DropAfterBytes > 0 {
			_, _ = io.CopyN(io.Discard, r, a.DropAfterBytes)
		}
		_ = x.conn.Conn().Close()
		return true, errDropped
	case a.Reply != nil:
		if r != nil {
			_, _ = io.Copy(io.Discard, r)
		}
		return true, a.Reply
	}
	return false, nil
}

const invalidReason = "domain does not exist (.invalid, RFC 2606 section 2)"

// isInvalidDomain reports whether addr's domain is "invalid" or ends in
// ".invalid", the TLD RFC 2606 §2 reserves for names that cannot exist.
func isInvalidDomain(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return false
	}
	d := strings.ToLower(strings.TrimSuffix(addr[at+1:], "."))
	return d == "invalid" || strings.HasSuffix(d, ".invalid")
}

// bounce delivers a DSN for a refused recipient, unless there is nowhere to
// send it: no sink, the null sender (a bounce is never bounced) or a NOTIFY
// without FAILURE (RFC 3461 §4.1).
func (x *session) bounce(to string, opts *smtp.RcptOptions) {
	if x.s.opt.Bounces == nil || x.from == "" {
		return
	}
	rcpt := DSNRecipient{
		Final:      to,
		Action:     "failed",
		Status:     "5.1.1",
		Diagnostic: "550 5.1.1 <" + to + ">: Recipient address rejected: " + invalidReason,
	}
	if opts != nil {
		if len(opts.Notify) > 0 && !slices.Contains(opts.Notify, smtp.DSNNotifyFailure) {
			return // NEVER, or only DELAY/SUCCESS asked for
		}
		if opts.OriginalRecipient != "" {
			rcpt.Original = string(opts.OriginalRecipientType) + "; " + opts.OriginalRecipient
		}
	}
	raw := BuildDSN(DSN{
		ReportingMTA: x.s.opt.Hostname,
		To:           x.from,
		Date:         x.s.opt.Now(),
		ArrivalDate:  x.arrival,
		EnvelopeID:   x.envID,
		Recipients:   []DSNRecipient{rcpt},
		Headers:      []byte("Return-Path: <" + x.from + ">\r\n"),
	})
	raw = append([]byte("Return-Path: <>\r\nDelivered-To: "+x.from+"\r\n"), raw...)
	if err := x.s.opt.Bounces.Deliver(x.s.baseCtx, raw); err != nil {
		x.s.log.Error("delivering dsn", "err", err)
	}
}

var _ smtp.AuthSession = (*session)(nil)
