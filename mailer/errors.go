package mailer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/emersion/go-smtp"
)

// Sentinel errors callers branch on.
var (
	// ErrSkip is returned by a Renderer when the recipient must not get the
	// message any more (unsubscribed meanwhile); the delivery becomes skipped.
	ErrSkip = errors.New("mailer: skip this recipient")
	// ErrUnrenderable is returned (wrapped) by a Renderer when the message
	// can never be made, e.g. a list without the legally required sender
	// details: the delivery fails at once instead of being retried.
	ErrUnrenderable = errors.New("mailer: message cannot be rendered")
	// ErrNoRelay reports that no relay is configured.
	ErrNoRelay = errors.New("mailer: no SMTP relay configured")
	// ErrUnknownIssue reports an issue that was never snapshotted.
	ErrUnknownIssue = errors.New("mailer: issue not in the outbox")
	// ErrBadAddress reports an address that cannot be sent to.
	ErrBadAddress = errors.New("mailer: bad address")
	// ErrHeaderInjection reports CR or LF in a header value.
	ErrHeaderInjection = errors.New("mailer: CR or LF in a header value")
)

// SMTP stages at which an Error can happen.
const (
	StageConnect = "connect"
	StageMail    = "mail"
	StageRcpt    = "rcpt"
	StageData    = "data"
)

// Error is a failed SMTP exchange. Temporary is true for 4xx replies and
// network failures (retry later) and false for 5xx replies (RFC 5321
// §4.2.1); Enhanced holds the RFC 3463 status code when the relay gave one.
type Error struct {
	Temporary bool
	Code      int
	Enhanced  string
	Text      string
	Stage     string
}

// Error formats the failure as "smtp STAGE: CODE ENHANCED TEXT".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("smtp ")
	b.WriteString(e.Stage)
	b.WriteString(": ")
	if e.Code != 0 {
		b.WriteString(strconv.Itoa(e.Code))
		b.WriteByte(' ')
	}
	if e.Enhanced != "" {
		b.WriteString(e.Enhanced)
		b.WriteByte(' ')
	}
	b.WriteString(e.Text)
	return b.String()
}

// Throttled reports a reply asking the sender to slow down: 421 (service
// closing) or 454/451 4.7.x style rate limiting.
func (e *Error) Throttled() bool {
	return e.Code == 421 || e.Code == 454 || strings.HasPrefix(e.Enhanced, "4.7.")
}

// Permanent reports a failure that must not be retried and means the
// recipient does not get the message (5xx at RCPT or DATA).
func (e *Error) Permanent() bool { return !e.Temporary }

// toError turns whatever the SMTP client returned into an *Error.
func toError(stage string, err error) *Error {
	if err == nil {
		return nil
	}
	var me *Error
	if errors.As(err, &me) {
		return me
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		e := &Error{Code: se.Code, Text: se.Message, Stage: stage}
		if se.EnhancedCode != (smtp.EnhancedCode{}) && se.EnhancedCode != smtp.NoEnhancedCode {
			c := se.EnhancedCode
			e.Enhanced = fmt.Sprintf("%d.%d.%d", c[0], c[1], c[2])
		}
		e.Temporary = se.Code < 500
		return e
	}
	return &Error{Temporary: true, Text: err.Error(), Stage: stage}
}
