package classify

import (
	"strings"

	"github.com/emersion/go-message/textproto"
)

// classifyMessage applies the rule families in order: ARF, RFC 3464,
// free-text bounces, auto-replies. An Exim bounce carries
// "Auto-Submitted: auto-replied", so a message that looks like a bounce is
// tried as one before the auto-reply rules.
func classifyMessage(p *parsed) *Report {
	rep := &Report{
		Class:     Other,
		MessageID: trimID(p.header.Get("Message-Id")),
		From:      p.from,
		Subject:   p.subject,
	}
	rep.EnvelopeTo = envelopeTo(p)
	if p.original != nil {
		rep.setOriginal(p.original)
	}
	switch {
	case len(p.feedback) > 0:
		arfReport(p, rep)
	case dsnReport(p, rep):
	case sesReport(p, rep):
	case jmrpReport(p, rep):
	case isAutoReply(p) && !looksLikeBounce(p):
		if !statesFailure(p) || !textBounce(p, rep) {
			autoReply(p, rep)
		}
	case looksLikeBounce(p) && textBounce(p, rep):
	case isAutoReply(p):
		autoReply(p, rep)
	}
	rep.Class = overallClass(rep)
	return rep
}

// statesFailure reports whether the text of a message that looks like an
// auto-reply states a delivery failure the way MTAs do: an RFC 3463
// status or an SMTP reply code of class 4 or 5 beside failure wording. A
// bounce sent with auto-reply headers or an "Auto-Reply:" subject then has
// real failed recipients, and they win over the auto-reply's From.
func statesFailure(p *parsed) bool {
	explain, _ := splitOriginal(p.bodyText())
	if reasonWords(explain) == "" {
		return false
	}
	if s := findStatus(explain); s != "" && s[0] != '2' {
		return true
	}
	c := findReplyCode(explain)
	return c != "" && (c[0] == '4' || c[0] == '5')
}

// setOriginal records the returned original's header.
func (rep *Report) setOriginal(h *textproto.Header) {
	rep.OriginalHeaders = headerMap(h)
	rep.OriginalMessageID = trimID(h.Get("Message-Id"))
}

// overallClass is Hard if any recipient is hard, else the class of the
// first recipient, else Other.
func overallClass(rep *Report) Class {
	if len(rep.Recipients) == 0 {
		if rep.Format == "arf" && !strings.EqualFold(rep.FeedbackType, "auth-failure") {
			return Complaint
		}
		return Other
	}
	for _, r := range rep.Recipients {
		if r.Class == Hard {
			return Hard
		}
	}
	return rep.Recipients[0].Class
}

// envelopeTo lists Delivered-To, X-Original-To and To addresses without
// duplicates: where a VERP return address shows up.
func envelopeTo(p *parsed) []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range []string{"Delivered-To", "X-Original-To", "To"} {
		for _, v := range p.header.Values(k) {
			for _, a := range allAddresses(decodeHeader(v)) {
				if !seen[strings.ToLower(a)] {
					seen[strings.ToLower(a)] = true
					out = append(out, a)
				}
			}
		}
	}
	return out
}

// trimID strips the angle brackets and space around a Message-ID.
func trimID(s string) string {
	return strings.Trim(strings.TrimSpace(s), "<>")
}

// defaultStatus builds a class-consistent status when the message states
// none: "4.0.0" for a temporary failure, "5.0.0" otherwise.
func defaultStatus(diag string, temporary bool) string {
	if c := findReplyCode(diag); c != "" && c[0] == '4' || temporary {
		return "4.0.0"
	}
	return "5.0.0"
}
