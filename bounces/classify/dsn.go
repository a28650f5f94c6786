package classify

import (
	"regexp"
	"strings"
)

// dsnRecipient is one per-recipient block of an RFC 3464 section 2.3
// delivery-status body.
type dsnRecipient struct {
	final, original, action, status, diagnostic, remoteMTA string
}

// dsnFields unfolds a delivery-status body (RFC 3464 section 2.1: header
// syntax, continuation lines start with white space) into (name, value)
// pairs, with a blank-line marker ("", "") between groups.
func dsnFields(body string) [][2]string {
	var out [][2]string
	for _, line := range strings.Split(strings.ReplaceAll(body, "\r", ""), "\n") {
		if strings.TrimSpace(line) == "" {
			out = append(out, [2]string{})
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 && out[len(out)-1][0] != "" {
			out[len(out)-1][1] += " " + strings.TrimSpace(line)
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(k, " \t") {
			continue
		}
		out = append(out, [2]string{strings.ToLower(k), strings.TrimSpace(v)})
	}
	return out
}

// parseDSN reads the per-recipient blocks of a delivery-status body. A
// new block starts at a blank line or, for MTAs that omit the blank line
// (seen from some Exchange and qmail add-ons), at a second recipient field.
func parseDSN(body string) []dsnRecipient {
	var out []dsnRecipient
	var cur dsnRecipient
	var perMessageMTA string
	flush := func() {
		if cur.final != "" || cur.original != "" {
			if cur.remoteMTA == "" {
				cur.remoteMTA = perMessageMTA
			}
			out = append(out, cur)
		}
		cur = dsnRecipient{}
	}
	for _, f := range dsnFields(body) {
		v := f[1]
		switch f[0] {
		case "":
			flush()
		case "final-recipient", "x-actual-recipient":
			if f[0] == "x-actual-recipient" && cur.final != "" {
				continue
			}
			if cur.final != "" {
				flush()
			}
			cur.final = dsnAddress(v)
		case "original-recipient":
			// Original-Recipient normally precedes Final-Recipient (RFC 3464
			// section 2.3); after a complete block it starts the next one.
			if cur.original != "" || cur.final != "" && cur.status != "" {
				flush()
			}
			cur.original = dsnAddress(v)
		case "action":
			cur.action = strings.ToLower(strings.Fields(v + " x")[0])
		case "status":
			cur.status = findStatus(v)
		case "diagnostic-code":
			cur.diagnostic = dsnTyped(v)
		case "remote-mta":
			cur.remoteMTA = dsnTyped(v)
		case "reporting-mta", "received-from-mta":
			if perMessageMTA == "" && f[0] == "received-from-mta" {
				perMessageMTA = dsnTyped(v)
			}
		}
	}
	flush()
	return out
}

// dsnTyped strips the "type;" prefix of a DSN field (RFC 3464 section
// 2.1.2: address-type, diagnostic-type, mta-name-type).
func dsnTyped(v string) string {
	if t, rest, ok := strings.Cut(v, ";"); ok && !strings.ContainsAny(t, " <@") {
		return strings.TrimSpace(rest)
	}
	return strings.TrimSpace(v)
}

// dsnAddress takes the address out of Final-Recipient/Original-Recipient,
// decoding RFC 6533 section 3 utf-8 "\x{HEX}" escapes and RFC 3461 xtext.
func dsnAddress(v string) string {
	a := dsnTyped(v)
	a = strings.Trim(a, "<> \t")
	if strings.Contains(a, `\x{`) {
		a = unescapeUTF8Addr(a)
	}
	if strings.Contains(a, "+") {
		a = unXtext(a)
	}
	if as := findAddresses(a); len(as) > 0 {
		return as[0]
	}
	return a
}

// validAddress reports whether s is a whole address with a dotted domain.
func validAddress(s string) bool {
	return s != "" && addrRe.FindString(s) == s
}

var utf8Escape = regexp.MustCompile(`\\x\{([0-9A-Fa-f]{1,6})\}`)

func unescapeUTF8Addr(s string) string {
	return utf8Escape.ReplaceAllStringFunc(s, func(m string) string {
		var r rune
		for _, c := range m[3 : len(m)-1] {
			r = r*16 + rune(hexVal(byte(c)))
		}
		return string(r)
	})
}

// unXtext decodes RFC 3461 section 4 xtext ("+2B" is "+").
func unXtext(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '+' && i+2 < len(s) && isUpperHex(s[i+1]) && isUpperHex(s[i+2]) {
			// xtext only encodes '+', '=' and bytes outside '!'..'~': any
			// other "+XX" is a plain plus address (VERP, subaddress).
			c := byte(hexVal(s[i+1])<<4 | hexVal(s[i+2]))
			if c == '+' || c == '=' || c < '!' || c > '~' {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isUpperHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return 0
}

// maxContext bounds how many recipients of one report are also looked up
// in its human-readable part.
const maxContext = 50

// dsnReport fills rep from the RFC 3464 delivery-status parts of p. It
// returns false when there are none or they name no recipient, so that the
// free-text rules can try.
func dsnReport(p *parsed, rep *Report) bool {
	var recs []dsnRecipient
	for _, body := range p.dsn {
		recs = append(recs, parseDSN(body)...)
	}
	if len(recs) == 0 {
		return false
	}
	human := p.bodyText()
	var failed, delivered []Recipient
	others := make([]string, 0, len(recs))
	for _, d := range recs {
		others = append(others, strings.ToLower(d.final))
	}
	if len(recs) == 1 && !validAddress(recs[0].final) && !validAddress(recs[0].original) {
		// Sendmail sometimes truncates Final-Recipient to "@host"; the
		// human-readable part still names the address.
		explain, _ := splitOriginal(human)
		if as := textRecipients(explain, senderSide(p, rep)); len(as) == 1 {
			recs[0].final = as[0]
			others[0] = strings.ToLower(as[0])
		}
	}
	for i, d := range recs {
		if i == maxContext {
			// Reading the human part for each of thousands of
			// recipients would be quadratic; the fields alone decide.
			human = ""
		}
		r := dsnRecipientReport(p.dc, d, human, others)
		if r.Class == Delivered {
			delivered = append(delivered, r)
		} else {
			failed = append(failed, r)
		}
	}
	// RFC 3464 section 2.3.3: a report may mix outcomes; the failed ones
	// are what a list acts on.
	rep.Recipients = failed
	if len(failed) == 0 {
		rep.Recipients = delivered
	}
	rep.Format = "rfc3464"
	return true
}

// dsnRecipientReport turns one per-recipient block into a Recipient. When
// Diagnostic-Code is missing or says nothing useful, the human-readable
// part (RFC 3464 section 2: the first part of the report) around the
// recipient's address is read as well.
func dsnRecipientReport(dc *decider, d dsnRecipient, human string, others []string) Recipient {
	dc.reset()
	// Final-Recipient sometimes holds a local path or source route
	// (Exim, Sun Messaging Server); Original-Recipient then names the
	// address the sender used.
	addr := d.final
	if !validAddress(addr) && validAddress(d.original) {
		addr = d.original
	}
	r := Recipient{Address: addr, Action: d.action, Diagnostic: d.diagnostic, RemoteMTA: d.remoteMTA}
	switch d.action {
	case "delivered", "relayed", "expanded", "deliverable":
		// "deliverable" is Postfix's address verification report (sendmail -bv).
		r.Class, r.Reason = Delivered, ReasonDelivered
		r.Why = "class delivered: Action " + d.action + " (RFC 3464)"
		r.Status = d.status
		if r.Status == "" {
			r.Status = "2.0.0"
		}
		return r
	}
	diag := d.diagnostic
	context := textBetween(human, addr, others)
	if d.diagnostic == "" || reasonWords(d.diagnostic) == "" {
		diag += "\n" + context
	}
	// The remote server's own code in Diagnostic-Code is more precise than
	// the Status the reporting MTA derived (Amazon SES writes 5.1.0 for
	// every remote refusal; Sendmail 4.4.7 for a 4.7.1 answer), unless it
	// is the generic x.0.0.
	status := d.status
	if s := diagStatus(d.diagnostic); s != "" && s[0] != '2' && (status == "" || !strings.HasSuffix(s, ".0.0")) {
		status = s
	}
	if status == "" || strings.HasSuffix(status, ".0.0") {
		// OpenSMTPD writes Status 5.0.0 and gives the remote answer only in
		// the human-readable part.
		if s := diagStatus(context); s != "" && (status == "" || s[0] == status[0]) && !strings.HasSuffix(s, ".0.0") {
			status = s
		}
	}
	if status == "" {
		status = diagStatus(diag)
		if status == "" || status[0] == '2' {
			status = defaultStatus(diag, d.action == "delayed")
		}
	}
	if d.action == "delayed" && status[0] == '5' {
		status = "4" + status[1:]
	} else if d.diagnostic != "" {
		status = dc.agreeStatus(status, d.diagnostic, status == d.status)
	} else {
		status = dc.agreeStatus(status, context, status == d.status)
	}
	r.Reason = decideReason(dc, diag, status, smtpCommand(d.diagnostic+"\n"+context))
	status = dc.deadStatus(status, r.Reason, diag)
	r.Status = status
	switch {
	case d.action == "delayed" && (r.Reason == ReasonOnHold || r.Reason == ReasonUndefined):
		r.Reason = ReasonExpired
	case d.action == "failed" && status[0] == '4' && (r.Reason == ReasonNetworkError ||
		r.Reason == ReasonOnHold || r.Reason == ReasonUndefined || r.Reason == ReasonSystemError):
		// RFC 3464 section 2.3.3: "failed" with a 4.x.x status means a
		// transient condition lasted until the MTA gave up (Postfix
		// "connect to …: Connection timed out" at queue lifetime).
		r.Reason = ReasonExpired
	}
	dc.finish(&r)
	if r.Action == "" {
		r.Action = "failed"
	}
	return r
}
