package classify

import (
	"fmt"
	"strings"
)

// Refusal decides what an SMTP refusal met while sending says about the
// recipient, with the same rules as a bounce: code and enhanced are the
// reply's code and RFC 3463 status ("" when the server gave none), text
// its text, and command the command it answered ("RCPT", "DATA", "MAIL",
// or "" when unknown). A 5xx is not hard by itself: only a dead-address
// reason is.
func Refusal(code int, enhanced, text, command string) Recipient {
	dc := &decider{}
	status := enhanced
	if status == "" {
		status = fmt.Sprintf("%d.0.0", code/100)
	}
	diag := strings.TrimSpace(fmt.Sprintf("%d %s %s", code, enhanced, text))
	r := Recipient{Status: status, Action: "failed", Diagnostic: diag}
	cmd := smtpCommand(diag)
	if command != "" {
		cmd = commandOf(command)
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
