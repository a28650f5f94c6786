package classify

import (
	"strings"
)

// decider records which rules decided a recipient's reason, status and
// class, so that each decision can say why (Recipient.Why), and lets an
// evaluation switch rules off by ID (see docs/BOUNCES.md, "Leave one MTA
// family out"). A nil *decider decides with every rule and records
// nothing.
//
// Rule IDs are stable strings: a phrase rule is "<table>:<phrase>"
// ("hard:user unknown", "soft1:mailbox full", "soft:blocked"); a rule that
// is code is a short name ("cmd:data-user-unknown", "status:agree-digit").
type decider struct {
	off   map[string]bool // rules switched off
	fired []string        // IDs of the rules used for the current recipient
	why   []string        // their explanations, in order
}

// on reports whether rule id may be used.
func (dc *decider) on(id string) bool {
	return dc == nil || dc.off == nil || !dc.off[id]
}

// use records that rule id decided something, with a short explanation.
func (dc *decider) use(id, why string) {
	if dc == nil {
		return
	}
	dc.fired = append(dc.fired, id)
	dc.why = append(dc.why, why)
}

// reset starts a new recipient.
func (dc *decider) reset() {
	if dc == nil {
		return
	}
	dc.fired = dc.fired[:0]
	dc.why = dc.why[:0]
}

// finish sets r's class from its reason and status, and its explanation.
func (dc *decider) finish(r *Recipient) {
	r.Class = classOf(r.Reason, r.Status)
	if dc == nil {
		return
	}
	if r.Class == Hard {
		dc.why = append(dc.why, "class hard: "+r.Reason+" means the address is dead")
	} else {
		dc.why = append(dc.why, "class "+string(r.Class)+": "+r.Reason+" does not mean the address is dead")
	}
	r.Why = strings.Join(dc.why, "; ")
	r.rules = append([]string(nil), dc.fired...)
}

// matchRules returns the reason and rule ID of the first phrase of rules
// (a table named table) found in d, skipping rules that are off.
func (dc *decider) matchRules(d, table string, rules []phraseRule) (reason, id, phrase string) {
	checkOff := dc != nil && len(dc.off) > 0
	for _, r := range rules {
		for _, p := range r.phrases {
			if !strings.Contains(d, p) {
				continue
			}
			id := table + ":" + p
			if checkOff && dc.off[id] {
				continue
			}
			return r.reason, id, p
		}
	}
	return "", "", ""
}

// agreeStatus makes a generic status (x.0.0, or one this package
// defaulted) agree in its first digit with the remote server's reply
// code: "452 mailbox full" under Status 5.0.0 is temporary, "550 …" under
// 4.0.0 permanent (RFC 3463 section 3.1: the class digit says whether a
// retry can succeed; RFC 5321 section 4.2.1 the same of the reply code).
// A specific status (x.y.z with y or z not 0) is the MTA's own judgement
// and is kept, and so is a 4.0.0 that a DSN states (stated): with Action
// failed it says the MTA gave up on a transient condition (RFC 3464
// section 2.3.3).
func (dc *decider) agreeStatus(status, diag string, stated bool) string {
	if len(status) < 5 || !strings.HasSuffix(status, ".0.0") || !dc.on("status:agree-reply-code") ||
		stated && status[0] == '4' {
		return status
	}
	c := findReplyCode(diag)
	if c == "" || c[0] == status[0] || (c[0] != '4' && c[0] != '5') {
		return status
	}
	dc.use("status:agree-reply-code", "status "+c[:1]+status[1:]+": the generic "+status+" follows the reply code "+c)
	return c[:1] + status[1:]
}

// deadStatus makes a generic temporary status permanent when the reason
// says the address is dead: an unknown user or host is not a condition a
// retry can fix.
func (dc *decider) deadStatus(status, reason, diag string) string {
	if status != "4.0.0" || !dc.on("status:dead-is-permanent") {
		return status
	}
	switch reason {
	case ReasonUserUnknown, ReasonHostUnknown, ReasonHasMoved:
	default:
		return status
	}
	if c := findReplyCode(diag); c != "" && c[0] == '4' {
		return status
	}
	dc.use("status:dead-is-permanent", "status 5.0.0: "+reason+" is permanent")
	return "5.0.0"
}
