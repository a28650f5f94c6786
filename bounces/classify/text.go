package classify

import (
	"bufio"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/textproto"
)

// addrRe matches an e-mail address in free text. The local part allows the
// legacy dotted forms of Japanese carriers ("a..b.@docomo.ne.jp") and UTF-8
// (RFC 6531).
// A quoted local part ("a..b."@docomo.ne.jp) is kept with its quotes. The
// top-level domain is ASCII so that text running on without a space (as in
// CJK prose) is not swallowed.
var addrRe = regexp.MustCompile(`(?:"[^"\s@]+"|[\p{L}\p{N}.!#$%&'*+/=?^_{|}~-]+)@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]+)\b`)

// findAddresses returns every address in s, in order. A local part
// written as an RFC 2047 encoded word ("=?UTF-8?B?5bGx55Sw?=@example.jp",
// as some MTAs echo a header address) is decoded first.
func findAddresses(s string) []string {
	if strings.Contains(s, "?=@") || strings.Contains(s, `?="@`) {
		s = decodeLocalParts(s)
	}
	ms := addrRe.FindAllString(s, -1)
	for i, m := range ms {
		ms[i] = strings.TrimLeft(m, ".'=")
	}
	return ms
}

// encodedLocalRe matches an RFC 2047 encoded word (optionally quoted) used
// as the local part of an address.
var encodedLocalRe = regexp.MustCompile(`"?(=\?[^?\s"]+\?[bBqQ]\?[^?\s"]*\?=)"?@`)

// decodeLocalParts decodes encoded-word local parts in s; a word that
// does not decode, or decodes to something that cannot be a local part,
// is left as written.
func decodeLocalParts(s string) string {
	return encodedLocalRe.ReplaceAllStringFunc(s, func(m string) string {
		w := encodedLocalRe.FindStringSubmatch(m)[1]
		d := decodeHeader(w)
		if d == w || d == "" || strings.ContainsAny(d, " \t\r\n<>@,;:\"\\()[]") {
			return m
		}
		return d + "@"
	})
}

// statusRe matches an RFC 3463 enhanced status code.
var statusRe = regexp.MustCompile(`\b([245])\.(\d{1,3})\.(\d{1,3})\b`)

// findStatus returns the first enhanced status code in s, or "".
func findStatus(s string) string {
	m := statusRe.FindStringSubmatchIndex(s)
	for m != nil {
		// Skip IPv4 fragments and versions such as "192.5.1.1" or "v2.5.1.3".
		if m[0] > 0 && (s[m[0]-1] == '.' || s[m[0]-1] == '[') ||
			m[1] < len(s) && s[m[1]] == '.' && m[1]+1 < len(s) && s[m[1]+1] >= '0' && s[m[1]+1] <= '9' {
			next := statusRe.FindStringSubmatchIndex(s[m[1]:])
			if next == nil {
				return ""
			}
			for i := range next {
				next[i] += m[1]
			}
			m = next
			continue
		}
		return s[m[0]:m[1]]
	}
	return ""
}

// replyStatusRe matches an enhanced status right after an SMTP reply
// code, as servers write it: "550 5.1.1", "550-5.7.1", "550-'5.7.1" (Amazon
// SES quotes the remote answer).
var replyStatusRe = regexp.MustCompile(`\b[245]\d\d[ -]['"]?([245]\.\d{1,3}\.\d{1,3})\b`)

// diagStatus returns the status a server gave in a diagnostic: one that
// follows a reply code, else any, else "".
func diagStatus(s string) string {
	// Amazon SES reports an expiry with the last remote answer inside:
	// "554 4.4.7 Message expired: … minutes.<421 4.4.2 Connection timed
	// out>"; the inner answer says why.
	if i := strings.Index(s, ".<"); i > 0 && strings.Contains(strings.ToLower(s[:i]), "expired") {
		if m := replyStatusRe.FindStringSubmatch(s[i+2:]); m != nil {
			return m[1]
		}
	}
	if m := replyStatusRe.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return findStatus(s)
}

// replyRe matches an SMTP reply code (RFC 5321 section 4.2) at the start of
// a diagnostic or after a colon, e.g. "said: 550 …", "550-5.7.1 …".
var replyRe = regexp.MustCompile(`(?:^|[\s:;(>\]])([245][0-5][0-9])(?:[ -]|$)`)

// findReplyCode returns the first SMTP reply code in s, or "".
func findReplyCode(s string) string {
	m := replyRe.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

// originalMarkers introduce the inline copy of the returned message in
// free-text bounces, matched at the start of a line once decoration
// ("---", "***") is trimmed: qmail and Yahoo ("--- Below this line is a copy
// of the message."), Exim ("------ This is a copy of the message, including
// all the headers. ------"), Gmail ("----- Original message -----"),
// Sendmail ("----- Unsent message follows -----"), DragonFly ("Message
// headers follow.", "Original message follows."), OpenSMTPD ("Below is a
// copy of the original message:"), Exchange ("Original message headers:")
// and Japanese MTAs (元のメッセージ, 送信したメッセージ).
var originalMarkers = []string{
	"below this line is a copy of the message", "this is a copy of the message",
	"this is a copy of the body of the message", "original message", "unsent message follows",
	"message headers follow", "message header follows", "below is a copy of the original message",
	"original message headers", "headers of the original message", "header of the original message",
	"returned message", "original mail", "text of the message follows", "message text follows",
	"元のメッセージ", "送信したメッセージ", "元メール", "your message reads", "undelivered message headers",
	"included is a copy of the message header", "a copy of the original message", "original message is",
	"content-type: message/rfc822", "content-type: text/rfc822-headers", "bounced e-mail:", "bounced email:",
}

// splitOriginal cuts a free-text bounce into the MTA's explanation and the
// inline copy of the original (empty when none is found).
func splitOriginal(body string) (explain, original string) {
	off := 0
	for _, line := range strings.SplitAfter(body, "\n") {
		l := strings.ToLower(strings.Trim(line, " \t\r\n-*=_>|["))
		l = strings.TrimPrefix(l, "the ") // 1&1: "--- The header of the original message is following. ---"
		if len(l) > 0 && len(l) < 100 {
			for _, m := range originalMarkers {
				if strings.HasPrefix(l, m) && !strings.HasPrefix(l, "original message was received") &&
					!strings.HasPrefix(l, "original message is attached") {
					return body[:off], body[off+len(line):]
				}
			}
		}
		off += len(line)
	}
	return body, ""
}

// headerBlock parses the header at the start of an inline original (after
// blank lines), or nil.
func headerBlock(s string) *textproto.Header {
	s = strings.TrimLeft(s, " \t\n")
	if strings.HasPrefix(s, "From ") {
		// An mbox separator line (RFC 4155) before the header.
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	if i := strings.IndexByte(s, '\n'); i < 0 || !strings.Contains(s[:i], ":") {
		return nil
	}
	h, err := textproto.ReadHeader(bufio.NewReader(strings.NewReader(s)))
	if h.Len() == 0 {
		return nil
	}
	_ = err // a broken tail still leaves the fields read before it
	return &h
}

// senderSide lists the addresses that are never the failed recipient: the
// bounce's own sender and envelope, the original's sender fields.
func senderSide(p *parsed, rep *Report) map[string]bool {
	ex := map[string]bool{strings.ToLower(p.from): true}
	// The bounce's To is our return path. Delivered-To and X-Original-To
	// are left out: a forwarding setup can make them the failed address.
	for _, a := range allAddresses(decodeHeader(p.header.Get("To"))) {
		ex[strings.ToLower(a)] = true
	}
	for _, k := range []string{"From", "Sender", "Return-Path", "Reply-To"} {
		for _, v := range rep.OriginalHeaders[k] {
			for _, a := range findAddresses(v) {
				ex[strings.ToLower(a)] = true
			}
		}
	}
	return ex
}

// maxAddresses bounds how many addresses of a free-text bounce are read.
const maxAddresses = 200

// systemLocalParts are mailboxes of mail systems, never a list member.
var systemLocalParts = map[string]bool{"mailer-daemon": true, "postmaster": true, "mail-daemon": true,
	"maildaemon": true, "hostmaster": true, "abuse": true, "root": true}

// textRecipients finds the failed recipients named in a free-text bounce:
// every address in the explanation except sender-side ones and those
// introduced as a sender ("MAIL FROM:<…>", "envelope-from").
func textRecipients(explain string, exclude map[string]bool) []string {
	var out, echo []string
	// A bounce names a handful of recipients; the cap keeps hostile input
	// linear.
	for _, m := range addrRe.FindAllStringIndex(explain, maxAddresses) {
		a := strings.TrimLeft(explain[m[0]:m[1]], ".'=")
		la := strings.ToLower(a)
		local, _, _ := strings.Cut(la, "@")
		if exclude[la] || systemLocalParts[local] {
			continue
		}
		before := strings.ToLower(explain[max(0, m[0]-16):m[0]])
		if strings.Contains(before, "from") || strings.Contains(before, "sender") ||
			strings.Contains(before, "envelope") || strings.Contains(before, "return-path") {
			continue
		}
		// Exchange 2003 and others echo the original's header ("Your
		// message To: … Subject: …") above the failed recipients.
		ls := strings.LastIndexByte(explain[max(0, m[0]-200):m[0]], '\n') + 1 + max(0, m[0]-200)
		line := strings.ToLower(strings.TrimSpace(explain[ls:m[0]]))
		if strings.HasPrefix(line, "message-id:") || strings.HasPrefix(line, "in-reply-to:") ||
			strings.HasPrefix(line, "references:") || strings.HasSuffix(line, "<") && strings.Contains(line, "id") {
			continue
		}
		if strings.HasPrefix(line, "to:") || strings.HasPrefix(line, "cc:") || strings.HasPrefix(line, "subject:") {
			echo = append(echo, a)
			continue
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		out = echo
	}
	return dedupe(out)
}

// textBetween returns the part of text that speaks of addr: from the line
// naming it to the line before the next one naming another of others (or
// the end), at most 40 lines. It returns "" when addr is not in text.
func textBetween(text, addr string, others []string) string {
	if addr == "" {
		return ""
	}
	i := indexFold(text, addr)
	if i < 0 {
		return ""
	}
	start := strings.LastIndexByte(text[:i], '\n') + 1
	// At most 40 lines from the line naming addr.
	end := start
	for n := 0; n < 40 && end < len(text); n++ {
		j := strings.IndexByte(text[end:], '\n')
		if j < 0 {
			end = len(text)
			break
		}
		end += j + 1
	}
	block := text[start:end]
	// Stop before the first later line naming another recipient.
	firstEnd := strings.IndexByte(block, '\n') + 1
	if firstEnd == 0 {
		return block
	}
	lower := strings.ToLower(block[firstEnd:])
	cut := len(lower)
	la := strings.ToLower(addr)
	for _, o := range others {
		if o == la || o == "" {
			continue
		}
		if k := strings.Index(lower, o); k >= 0 && k < cut {
			cut = strings.LastIndexByte(lower[:k], '\n') + 1
		}
	}
	return strings.TrimRight(block[:firstEnd+cut], "\n")
}

// indexFold is strings.Index ignoring ASCII case of sub.
func indexFold(s, sub string) int {
	if i := strings.Index(s, sub); i >= 0 {
		return i
	}
	return strings.Index(strings.ToLower(s), strings.ToLower(sub))
}

// textBounce reads a bounce that has no RFC 3464 part. It returns false
// when no failed recipient can be found.
func textBounce(p *parsed, rep *Report) bool {
	explain, orig := splitOriginal(p.bodyText())
	if strings.Contains(explain, "?=@") || strings.Contains(explain, `?="@`) {
		explain = decodeLocalParts(explain)
	}
	if !strongBounce(p) && reasonWords(explain) == "" && findReplyCode(explain) == "" && findStatus(explain) == "" {
		// Only weak signals and no failure stated: not a bounce.
		return false
	}
	if rep.OriginalHeaders == nil {
		if h := headerBlock(orig); h != nil {
			rep.setOriginal(h)
		}
	}
	rep.Format = textFormat(p, explain)
	if pastedDSN(p.dc, explain, rep) {
		return true
	}
	rcpts := failedRecipients(p, rep, explain)
	if len(rcpts) == 0 {
		rep.Format = ""
		return false
	}
	lower := make([]string, len(rcpts))
	for i, a := range rcpts {
		lower[i] = strings.ToLower(a)
	}
	temporary := isTemporaryText(explain)
	group := strings.HasSuffix(strings.ToLower(strings.TrimSpace(p.header.Get("X-Failed-Recipients"))), "@googlegroups.com")
	for _, a := range rcpts {
		diag := textBetween(explain, a, lower)
		if reasonWords(diag) == "" && findReplyCode(diag) == "" && findStatus(diag) == "" {
			diag = explain
		}
		r := textRecipient(p.dc, a, diag, temporary)
		if group && p.dc.on("format:googlegroups") {
			// Google Groups refuses a post from a non-member (or to a group
			// that is gone) in the poster's language; the failed address
			// is the group.
			r.Reason, r.Class = ReasonRejected, Soft
			r.Why = "reason rejected, class soft: a Google Groups refusal is about the poster, not the group's address"
			r.rules = []string{"format:googlegroups"}
		}
		rep.Recipients = append(rep.Recipients, r)
	}
	return true
}

// pastedDSN reads delivery-status fields pasted into the text, as Amazon
// WorkMail and some gateways do ("Technical report:").
func pastedDSN(dc *decider, explain string, rep *Report) bool {
	if !strings.Contains(strings.ToLower(explain), "final-recipient:") {
		return false
	}
	recs := parseDSN(explain)
	if len(recs) == 0 {
		return false
	}
	others := make([]string, 0, len(recs))
	for _, d := range recs {
		others = append(others, strings.ToLower(d.final))
	}
	for _, d := range recs {
		rep.Recipients = append(rep.Recipients, dsnRecipientReport(dc, d, explain, others))
	}
	return true
}

// failedRecipients finds the failed addresses of a free-text bounce.
// Exim and Gmail name them in X-Failed-Recipients and in the text: the
// text's addresses that the header confirms win; where they disagree (a
// rewritten address) the text's are the ones the diagnostics speak of.
func failedRecipients(p *parsed, rep *Report, explain string) []string {
	var failed []string
	for _, v := range p.header.Values("X-Failed-Recipients") {
		failed = append(failed, findAddresses(v)...)
	}
	inText := textRecipients(explain, senderSide(p, rep))
	if len(inText) == 0 && len(failed) == 0 {
		// Mail sent to oneself bounces to the failed address itself.
		inText = textRecipients(explain, map[string]bool{strings.ToLower(p.from): true})
	}
	rcpts := intersect(inText, failed)
	if len(rcpts) == 0 {
		rcpts = inText
	}
	if len(rcpts) == 0 {
		rcpts = failed
	}
	if len(rcpts) == 0 {
		// Carriers such as au (ezweb) and some Japanese MTAs do not repeat
		// the address: the returned original's To is the recipient.
		if to := findAddresses(strings.Join(rep.OriginalHeaders["To"], ",")); len(to) == 1 && reasonWords(explain) != "" {
			rcpts = to
		}
	}
	return dedupe(rcpts)
}

// intersect returns the addresses of a that are also in b, ignoring case.
func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if strings.EqualFold(x, y) {
				out = append(out, x)
				break
			}
		}
	}
	return out
}

// textRecipient decides status, reason and class for one recipient of a
// free-text bounce.
func textRecipient(dc *decider, addr, diag string, temporary bool) Recipient {
	dc.reset()
	status := diagStatus(diag)
	if status == "" || status[0] == '2' {
		status = defaultStatus(diag, temporary)
	}
	status = dc.agreeStatus(status, diag, false)
	reason := decideReason(dc, diag, status, smtpCommand(diag))
	r := Recipient{
		Address:    addr,
		Status:     dc.deadStatus(status, reason, diag),
		Action:     "failed",
		Diagnostic: compact(diag),
		Reason:     reason,
	}
	dc.finish(&r)
	return r
}

// isTemporaryText reports wording of a delay warning rather than a final
// failure (Sendmail "Warning: could not send message for past 4 hours",
// Postfix "Delayed Mail (still being retried)", Exim "has not yet been
// delivered").
func isTemporaryText(s string) bool {
	l := strings.ToLower(s)
	// Exim ends an address whose failures were all temporary with an
	// indented "retry timeout exceeded" or "all hosts have been failing for
	// a long time…"; the status class stays 4.
	if eximRetry.MatchString(l) {
		return true
	}
	for _, w := range []string{"will be retried", "still being retried", "will continue", "will keep trying",
		"has not yet been delivered", "warning: could not send", "this is a temporary", "temporary error",
		"delivery delayed", "will try again", "retry again", "no action is required"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

var eximRetry = regexp.MustCompile(`(?m)^\s+(?:retry timeout exceeded|all hosts have been failing for a long time)`)

// compact joins a diagnostic's lines with single spaces, at most 1000 bytes.
func compact(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 1000 {
		s = s[:1000]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// textFormat names the MTA of a free-text bounce by its signature wording.
func textFormat(p *parsed, explain string) string {
	l := strings.ToLower(explain)
	f := strings.ToLower(p.fromName)
	switch {
	case strings.Contains(l, "qmail-send") || strings.Contains(l, "does not like recipient"):
		return "qmail"
	case strings.Contains(l, "this message was created automatically by mail delivery software"):
		return "exim"
	case strings.Contains(l, "this is the mail system at host"):
		return "postfix"
	case strings.Contains(l, "transcript of session follows") || strings.Contains(l, "----- the following addresses"):
		return "sendmail"
	case strings.Contains(f, "google") || strings.Contains(l, "google tried to deliver"):
		return "gmail"
	case strings.Contains(f, "yahoo") || strings.Contains(l, "sorry, we were unable to deliver your message"):
		return "yahoo"
	case strings.Contains(l, "did not reach the following recipient") || strings.Contains(l, "microsoft exchange") ||
		p.header.Get("X-MS-Exchange-Message-Is-Ndr") != "":
		return "exchange"
	case strings.Contains(f, "ezweb.ne.jp") || strings.Contains(f, "au.com"):
		return "ezweb"
	case strings.Contains(f, "docomo.ne.jp"):
		return "docomo"
	case strings.Contains(f, "softbank.ne.jp"):
		return "softbank"
	case strings.Contains(l, "dragonfly mail agent"):
		return "dragonfly"
	}
	return "text"
}
