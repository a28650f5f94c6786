package classify

import (
	"fmt"
	"strings"
)

// Reply is an SMTP server's answer to one of our commands.
type Reply struct {
	Code     int    // RFC 5321 reply code, e.g. 550
	Enhanced string // RFC 3463 status from the reply, "" when none
	Text     string // the reply's text
	Command  string // the command it answered: "RCPT", "DATA", "MAIL", or "" when unknown
}

// Refusal decides what an SMTP refusal met while sending says about the
// recipient, with the same rules as a bounce. A 5xx is not hard by
// itself: only a dead-address reason is.
func Refusal(rp Reply) Recipient {
	dc := &decider{}
	status := rp.Enhanced
	if status == "" {
		status = fmt.Sprintf("%d.0.0", rp.Code/100)
	}
	diag := strings.TrimSpace(fmt.Sprintf("%d %s %s", rp.Code, rp.Enhanced, rp.Text))
	r := Recipient{Status: status, Action: "failed", Diagnostic: diag}
	cmd := smtpCommand(diag)
	if rp.Command != "" {
		cmd = commandOf(rp.Command)
	}
	r.Reason = decideReason(dc, diag, status, cmd)
	r.Status = dc.deadStatus(status, r.Reason, diag)
	dc.finish(&r)
	return r
}

// commandOf names a command our own SMTP client sent.
func commandOf(name string) command {
	switch c := strings.ToUpper(strings.TrimSpace(name)); c {
	case "RCPT", "DATA", "MAIL":
		return command{c, "cmd:own-client"}
	}
	return command{}
}
