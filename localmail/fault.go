package localmail

import (
	"time"

	"github.com/emersion/go-smtp"
)

// Stage names the SMTP command a fault hook is asked about.
type Stage string

// The stages of an SMTP transaction a Fault hook sees.
const (
	StageMail Stage = "MAIL"
	StageRcpt Stage = "RCPT"
	StageData Stage = "DATA"
)

// Event describes the command a Fault hook may answer in place of the
// server.
type Event struct {
	// Stage is the command being answered.
	Stage Stage
	// Conn numbers the connection, 1 for the first since NewSMTP.
	Conn int64
	// Msg numbers the transaction (each MAIL command), 1 for the first.
	Msg int64
	// From is the envelope sender ("" for the null sender).
	From string
	// To is the recipient at StageRcpt; empty otherwise.
	To string
	// Rcpts holds the accepted recipients at StageData.
	Rcpts []string
}

// Action tells the server how to answer an Event. The zero Action lets the
// server go on as usual.
type Action struct {
	// Stall delays the answer by this long (cut short by Close or by the end
	// of Run's context), then the rest of the Action applies.
	Stall time.Duration
	// Drop closes the connection without an answer. At StageData the
	// server first reads DropAfterBytes bytes of the message, so the drop
	// happens mid-DATA.
	Drop bool
	// DropAfterBytes is how much of the message is read before a Drop at
	// StageData.
	DropAfterBytes int64
	// Reply, when set, is the answer instead of the normal one. At
	// StageData the message is read in full first and then discarded.
	Reply *smtp.SMTPError
}

// FaultFunc decides how the server answers an Event. It is called from many
// connections at once and must be safe for concurrent use.
type FaultFunc func(Event) Action

// Reply returns an Action answering with code, enhanced status code
// (RFC 3463) and text, e.g. Reply(450, "4.2.1", "try later"). A malformed
// enhanced code is sent as code's class with .0.0.
func Reply(code int, enhanced, text string) Action {
	return Action{Reply: &smtp.SMTPError{Code: code, EnhancedCode: parseEnhanced(code, enhanced), Message: text}}
}

func parseEnhanced(code int, s string) smtp.EnhancedCode {
	var e smtp.EnhancedCode
	n := 0
	cur, digits := 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || n == 3 {
				return smtp.EnhancedCode{code / 100, 0, 0}
			}
			e[n] = cur
			n, cur, digits = n+1, 0, 0
			continue
		}
		if s[i] < '0' || s[i] > '9' || digits == 3 {
			return smtp.EnhancedCode{code / 100, 0, 0}
		}
		cur = cur*10 + int(s[i]-'0')
		digits++
	}
	if n != 3 {
		return smtp.EnhancedCode{code / 100, 0, 0}
	}
	return e
}
