package classify

import (
	"regexp"
	"strings"
)

// Reason vocabulary. The names follow the sisimai bounce parser's reasons so
// that results can be compared with it; the class of each is in classOf.
const (
	ReasonUserUnknown     = "userunknown"     // the mailbox does not exist
	ReasonHostUnknown     = "hostunknown"     // the domain does not exist or has no mail host
	ReasonHasMoved        = "hasmoved"        // the recipient has moved (5.1.6)
	ReasonNotAccept       = "notaccept"       // the domain accepts no mail (null MX, RFC 7505)
	ReasonMailboxFull     = "mailboxfull"     // over quota
	ReasonMesgTooBig      = "mesgtoobig"      // message larger than the receiver accepts
	ReasonExceedLimit     = "exceedlimit"     // message exceeds a per-recipient limit (5.2.3)
	ReasonSuspend         = "suspend"         // account disabled, suspended or inactive
	ReasonFiltered        = "filtered"        // the recipient's own filter or setting refused it
	ReasonNoRelaying      = "norelaying"      // relaying denied
	ReasonAuthFailure     = "authfailure"     // SPF, DKIM or DMARC failure
	ReasonRequirePTR      = "requireptr"      // our IP lacks reverse DNS
	ReasonBadReputation   = "badreputation"   // our IP or domain has a poor reputation
	ReasonBlocked         = "blocked"         // our IP is on a block list or refused
	ReasonSpamDetected    = "spamdetected"    // content judged as spam
	ReasonVirusDetected   = "virusdetected"   // content judged as malware
	ReasonPolicyViolation = "policyviolation" // a local policy refused the content
	ReasonSecurityError   = "securityerror"   // authentication or encryption required
	ReasonFailedSTARTTLS  = "failedstarttls"  // TLS could not be negotiated
	ReasonRejected        = "rejected"        // the envelope sender was refused
	ReasonTooManyConn     = "toomanyconn"     // too many connections
	ReasonSpeeding        = "speeding"        // rate limited
	ReasonExpired         = "expired"         // retries gave up, or delivery is delayed
	ReasonNetworkError    = "networkerror"    // DNS, connection or routing trouble
	ReasonSystemError     = "systemerror"     // the receiving system failed
	ReasonContentError    = "contenterror"    // malformed content
	ReasonNotCompliantRFC = "notcompliantrfc" // message not compliant with RFC 5322
	ReasonSyntaxError     = "syntaxerror"     // SMTP syntax error
	ReasonMailerError     = "mailererror"     // a local delivery program failed
	ReasonOnHold          = "onhold"          // a failure whose cause is not stated
	ReasonUndefined       = "undefined"       // nothing could be said
	ReasonDelivered       = "delivered"       // success notification
	ReasonVacation        = "vacation"        // automatic reply
	ReasonFeedback        = "feedback"        // ARF report
)

// phraseRule maps lower-case phrases found in a diagnostic to a reason.
type phraseRule struct {
	reason  string
	phrases []string
}

// softFirst are reasons checked before the address-is-dead phrases: their
// wording is specific and overrides a generic code such as 5.1.1 that some
// MTAs (Exim, qmail, Japanese carriers) use for every refusal.
var softFirst = []phraseRule{
	{ReasonMailboxFull, []string{
		"mailbox full", "mailbox is full", "mailbox quota", "quota exceeded", "over quota", "overquota",
		"over the quota", "exceeded storage", "inbox is full", "mailfolder is full", "account is full",
		"disk quota", "exceeds the quota", "quota exceed", "mailbox size limit", "full mailbox",
		"mail box full", "user is over", "mailbox has exceeded", "mailbox exceeded", "exceeding its mailbox quota",
		"not enough storage space", "insufficient storage", "out of storage", "storage quota",
		"recipient's mailbox is full", "boite du destinataire pleine", "mailbox over", "maildir over quota",
		"is full", "quota full", "message would exceed", "exceeded its quota",
		"too much mail data", // docomo's answer for a full mailbox
		"容量", "メールボックスが一杯", "満杯"}},
	{ReasonExceedLimit, []string{"message size exceeds the recipient", "exceeds per-recipient"}},
	{ReasonMesgTooBig, []string{
		"message too large", "message too big", "message is too big", "message is too large",
		"message size exceeds", "exceeds size limit", "message length exceeds", "size exceeds the maximum",
		"message exceeds maximum", "exceeds the maximum size", "too large for this", "mail size limit",
		"recipsizelimit", "sendsizelimit"}}, // Exchange RESOLVER.RST.RecipSizeLimit
	{ReasonSuspend, []string{
		"account disabled", "account has been disabled", "account is disabled", "mailbox disabled",
		"mailbox is disabled", "suspended", "account inactive", "inactive account", "is inactive",
		"account is not active", "mailbox is inactive", "temporarily disabled", "account expired",
		"account has been locked", "account is locked", "deactivated", "boite du destinataire archivee",
		"this account has been", "mailbox unavailable or inactive", "mailbox has been blocked due to inactivity",
		"disabled mailbox", "account is frozen", "該当アカウントは停止", "利用停止"}},
	{ReasonMailerError, []string{"procmail:", "mailer error", "pipe to |", "command died with status", "unknown mailer"}},
	{ReasonSpeeding, []string{"too many recipients this hour", "rate limit exceeded", "sending rate"}},
	{ReasonRejected, []string{"you may not have permission to post", "メッセージを投稿する権限"}}, // Google Groups
	{ReasonHasMoved, []string{"has been replaced by", "has moved", "has been moved", "no longer with", "forwarding address"}},
	{ReasonNotAccept, []string{"does not accept mail", "does not accept any mail", "not accept any mail",
		"null mx", "domain does not receive mail", "accepts no mail",
		"indicated no smtp service",      // Exim, RFC 7505 null MX
		"couldn't find a mail exchanger", // qmail (#5.4.4)
	}},
	{ReasonFiltered, []string{
		"rejected by recipient", "refused by recipient", "blocked by recipient", "recipient rejected your message",
		"user reject", "delivery not authorized", "message filtered", "filtered by recipient",
		"this user doesn't accept", "rejected by user", "does not accept mail from", "not accepting mail from",
		"recipient has blocked", "blocked by the recipient", "refused by the recipient",
		"user has set", "refused due to recipient",
		"recipients was rejected by a remote mail server", // au (ezweb): the user's domain filter
		"受信拒否", "拒否設定", "指定拒否"}},
}

// hardRules are the phrases that mean the address itself is dead.
var hardRules = []phraseRule{
	{ReasonHostUnknown, []string{
		"host unknown", "unknown host", "host not found", "domain not found", "no such domain",
		"domain does not exist", "unrouteable mail domain", "name or service not known",
		"host or domain name not found", "unknown domain", "domain name not found", "nxdomain",
		"no mx", "illegal host/domain", "domain is not", "domain isn't in my list", "no such host",
		"unresolvable", "dns error: domain", "domain name lookup failed", "domain lookup failed",
		"recipient domain not found", "invalid domain", "domain unknown", "unknown mail domain",
		"host name not found", "account or domain may not exist", "domain has no mx",
		"ドメインが見つかりません", "ドメインが存在しません"}},
	{ReasonUserUnknown, []string{
		"user unknown", "unknown user", "no such user", "user not found", "recipient not found",
		"recipientnotfound", "does not exist", "doesn't exist", "no mailbox", "mailbox not found",
		"invalid recipient", "unknown recipient", "no such recipient", "unknown local part",
		"recipient unknown", "not a valid recipient", "unrouteable address", "unknown address",
		"address unknown", "no such mailbox", "no such account", "user not local", "invalid mailbox",
		"bad destination mailbox address", "addressee unknown", "not our customer", "is not a known user",
		"no such person", "invalid address", "unknown or illegal alias", "not a valid mailbox",
		"mailbox unavailable", "mailbox not available", "user doesn't have", "does not have an account",
		"no account by that name", "no valid recipients",
		"invalid mailbox name", "mailbox name not allowed", "not listed in", "address does not exist",
		"account does not exist", "this user doesn't have", "no user", "unknown account",
		"user does not exist", "disabled or discontinued", "was not found", "unknown or invalid",
		"address is not valid", "recipient is not valid", "no such local user", "destination addresses were unknown",
		"mailbox unknown", "undeliverable address", "invalid recipient address", "recipient invalid",
		"wasn't found", "could not be found", "not found at", "user invalid",
		"recipient name is not recognized", "invalid final delivery userid",
		"address not found", "address couldn't be found", // Gmail
		"recipnotfound", // Exchange "RESOLVER.ADR.RecipNotFound", "ExRecipNotFound"
		"no such address", "unknown mailbox", "not a valid user", "user not exist", "no such e-mail",
		"bad recipient", "unknown alias", "invalid user", "user is unknown", "recipient is unknown",
		"destination address does not exist", "no such user here", "mailbox is not found",
		"アカウントが存在しません", "ユーザーが見つかりません", "ユーザは存在しません", "存在しません",

		"存在しない", "宛先不明", "ユーザが見つかりません", "アドレスが見つかりません", "该用户不存在"}},
}

// softRules are checked after hardRules: policy, reputation, transport.
var softRules = []phraseRule{
	{ReasonNoRelaying, []string{"relay access denied", "relaying denied", "not permitted to relay",
		"relay not permitted", "unable to relay", "we do not relay", "relaying not allowed", "relay denied",
		"not allowed to relay", "no relaying", "relay not allowed", "relaying mail to", "open relay"}},
	{ReasonAuthFailure, []string{"dmarc", "dkim", " spf", "spf ", "sender policy framework",
		"unauthenticated email", "authentication check failed", "sender authentication", "not authenticated"}},
	{ReasonRequirePTR, []string{"reverse dns", "ptr record", "no ptr", "reverse lookup", "rdns",
		"cannot find your hostname", "cannot find your reverse hostname", "reverse hostname",
		"cannot resolve your address", "no reverse", "reverse-dns", "ptr lookup", "does not have a reverse",
		"dns reverse", "client host rejected: cannot find"}},
	{ReasonBadReputation, []string{"bad reputation", "poor reputation", "low reputation", "ip reputation",
		"sender reputation", "domain reputation", "reputation"}},
	{ReasonVirusDetected, []string{"virus", "malware", "infected", "malicious"}},
	{ReasonBlocked, []string{"blocked", "blacklist", "blocklist", "block list", "black list", "rbl",
		"spamhaus", "spamcop", "listed at", "listed on", "your ip", "client host rejected", "banned",
		"access denied", "connection refused", "not allowed to send", "refused to talk", "denied by",
		"ip address is", "dnsbl", "barracuda", "sorbs", "has been temporarily rate limited"}},
	{ReasonSpamDetected, []string{"spam", "junk mail", "message content rejected", "unsolicited",
		"bulk mail", "looks like", "classified as", "identified as", "suspicious", "content filter",
		"scored", "high probability"}},
	{ReasonPolicyViolation, []string{"policy violation", "violates", "violation", "prohibited",
		"not allowed by", "local policy", "policy reasons", "attachment", "content policy", "policy"}},
	{ReasonFailedSTARTTLS, []string{"starttls", "tls is required", "tls required", "must issue a starttls"}},
	{ReasonSecurityError, []string{"authentication required", "encryption required", "insecure",
		"authentication is required", "auth required", "security", "certificate"}},
	{ReasonRejected, []string{"sender rejected", "sender address rejected", "sender verify failed",
		"domain of sender address", "sender domain", "envelope sender", "sender unknown", "bad sender",
		"sender not allowed", "sender denied", "mail from", "from address", "sender is not",
		"your address", "sender address", "not accepted", "rejected"}},
	{ReasonTooManyConn, []string{"too many recipients", "too many connections", "too many concurrent", "connection limit",
		"too many simultaneous", "too many sessions"}},
	{ReasonSpeeding, []string{"rate limit", "rate-limit", "too many messages", "sending rate", "throttl"}},
	{ReasonExpired, []string{"retry time", "retry timeout", "delivery time expired", "message expired",
		"could not be delivered within", "has been delayed", "too long in the queue", "timeout exceeded",
		"delivery expired", "giving up", "gave up", "have not been able to deliver", "has not yet been delivered",
		"not yet been delivered", "was not delivered within", "expired", "delivery delayed", "queue too long",
		"could not be delivered for", "have been failing for a long time",
		"queue.expired"}}, // Exchange
	{ReasonNetworkError, []string{"connection timed out", "timed out", "no route to host", "lost connection",
		"connection reset", "could not connect", "unable to connect", "name server", "network",
		"too many hops", "mail loop", "routing loop", "loops back", "loop detected", "hop count exceeded",
		"dns", "connect to"}},
	{ReasonSystemError, []string{"system error", "internal error", "server error", "local error",
		"system config", "out of memory", "temporary failure", "temporarily unavailable",
		"service unavailable", "system is not", "resources temporarily", "insufficient system"}},
	{ReasonNotCompliantRFC, []string{"rfc 5322", "rfc5322", "rfc 2822", "rfc2822", "rfc822", "rfc 822",
		"not rfc compliant", "multiple from", "duplicate header", "rfc-compliant"}},
	{ReasonContentError, []string{"content", "header error", "invalid header", "mime", "8-bit", "8bit"}},
	{ReasonSyntaxError, []string{"syntax error", "command unrecognized", "bad sequence", "unrecognized command"}},
	{ReasonMailerError, []string{"mailer error", "pipe to", "procmail", "command died", "exit status",
		"program", "unknown mailer"}},
}

// statusReasons maps RFC 3463 subject.detail (the status without its
// class digit) to a reason, for diagnostics without telling words.
var statusReasons = map[string]string{
	"1.1": ReasonUserUnknown, "1.3": ReasonUserUnknown, "1.4": ReasonUserUnknown,
	"1.5": ReasonUserUnknown, "1.2": ReasonHostUnknown, "1.6": ReasonHasMoved,
	"1.10": ReasonNotAccept, "1.7": ReasonRejected, "1.8": ReasonRejected, "1.0": ReasonRejected,
	"2.0": ReasonFiltered, "2.1": ReasonSuspend, "2.2": ReasonMailboxFull, "2.3": ReasonExceedLimit,
	"2.4": ReasonMailerError,
	"3.0": ReasonSystemError, "3.1": ReasonMailboxFull, "3.2": ReasonNotAccept, "3.3": ReasonContentError,
	"3.4": ReasonMesgTooBig, "3.5": ReasonSystemError,
	"4.0": ReasonNetworkError, "4.1": ReasonNetworkError, "4.2": ReasonNetworkError, "4.3": ReasonSystemError,
	"4.4": ReasonHostUnknown, "4.5": ReasonNetworkError, "4.6": ReasonNetworkError, "4.7": ReasonExpired,
	"5.0": ReasonSyntaxError, "5.1": ReasonSyntaxError, "5.2": ReasonSyntaxError, "5.3": ReasonTooManyConn,
	"5.4": ReasonSyntaxError, "5.5": ReasonSyntaxError,
	"6.0": ReasonContentError, "6.1": ReasonContentError, "6.2": ReasonContentError, "6.3": ReasonContentError,
	"6.4": ReasonContentError, "6.5": ReasonContentError,
	"7.0": ReasonSecurityError, "7.1": ReasonSecurityError, "7.2": ReasonSecurityError, "7.4": ReasonSecurityError,
	"7.5": ReasonSecurityError, "7.6": ReasonSecurityError, "7.7": ReasonSecurityError, "7.8": ReasonSecurityError,
	"7.9": ReasonPolicyViolation, "7.10": ReasonFailedSTARTTLS, "7.11": ReasonFailedSTARTTLS,
	"7.13": ReasonSuspend, "7.14": ReasonSecurityError,
	"7.23": ReasonAuthFailure, "7.24": ReasonAuthFailure, "7.25": ReasonRequirePTR, "7.26": ReasonAuthFailure,
	"7.27": ReasonNotAccept, "7.509": ReasonAuthFailure,
}

// reasonFromStatus maps an enhanced status code to a reason, or "".
func reasonFromStatus(status string) string {
	if len(status) < 5 {
		return ""
	}
	return statusReasons[status[2:]]
}

// addressStatus reports whether a status names the address itself as
// dead: RFC 3463 X.1.1 (bad mailbox), X.1.2 (bad system), X.1.6 (moved),
// X.1.10 (null MX, RFC 7505).
func addressStatus(status string) bool {
	switch {
	case len(status) < 5 || status[0] != '5':
		return false
	}
	switch status[2:] {
	case "1.1", "1.2", "1.6", "1.10", "3.2":
		// X.3.2: "System not accepting network messages".
		return true
	}
	return false
}

// classOf maps a reason and status to a class. Hard only when the address
// itself is dead; a temporary (4.x.x) notaccept stays soft.
func classOf(reason, status string) Class {
	switch reason {
	case ReasonUserUnknown, ReasonHostUnknown, ReasonHasMoved:
		return Hard
	case ReasonNotAccept:
		if strings.HasPrefix(status, "4") {
			return Soft
		}
		return Hard
	case ReasonDelivered:
		return Delivered
	case ReasonVacation:
		return AutoReply
	case ReasonFeedback:
		return Complaint
	}
	return Soft
}

// maxDiagBytes bounds the diagnostic text read for a reason; real ones are
// a few hundred bytes.
const maxDiagBytes = 16 << 10

// decideReason chooses the reason of one failed recipient from its
// diagnostic text, status and the SMTP command that was refused. Specific
// soft wording wins; then replies recognised by their shape; then the
// address-is-dead wording (corrected by status and command); then a status
// that names the address (x.1.1…) over generic soft words such as
// "rejected"; then soft wording; then the status alone.
func decideReason(diag, status, cmd string) string {
	if len(diag) > maxDiagBytes {
		diag = diag[:maxDiagBytes]
	}
	d := strings.ToLower(stripAddresses(diag))
	d = strings.ReplaceAll(d, "unknown address error", "") // Amazon SES's wrapper of every remote refusal
	if r := matchRules(d, softFirst); r != "" {
		return refineByStatus(r, status)
	}
	if strings.Contains(d, "delivery error: dd this user doesn't have") {
		// Yahoo's answer (after DATA) for an account that does not exist.
		return ReasonUserUnknown
	}
	if r := hardFormats(d); r != "" {
		return adjustForCommand(r, cmd)
	}
	if r := matchRules(d, hardRules); r != "" {
		if cmd != "RCPT" {
			r = mailboxStatus(r, status)
		}
		return adjustForCommand(r, cmd)
	}
	if addressStatus(status) {
		return adjustForCommand(reasonFromStatus(status), cmd)
	}
	if r := matchRules(d, softRules); r != "" {
		return refineByStatus(r, status)
	}
	if r := reasonFromStatus(status); r != "" {
		return adjustForCommand(r, cmd)
	}
	if strings.TrimSpace(diag) == "" && status == "" {
		return ReasonUndefined
	}
	return ReasonOnHold
}

// refineByStatus lets a precise RFC 3463 status name the cause where the
// wording is generic: X.2.3 "message length exceeds administrative limit"
// over "message too large", X.4.7 "delivery time expired" over the
// connection error that preceded it.
func refineByStatus(reason, status string) string {
	switch {
	case len(status) < 5:
	case status[2:] == "2.3" && reason == ReasonMesgTooBig:
		return ReasonExceedLimit
	case status[2:] == "4.7" && (reason == ReasonNetworkError || reason == ReasonSystemError):
		return ReasonExpired
	}
	return reason
}

// hardFormats recognises replies whose meaning comes from their shape
// rather than a phrase:
//   - "550 : User unknown" with an empty address is what au (KDDI, ezweb)
//     answers after DATA for mail its user's filter refused;
//   - 551 "User not local" (RFC 5321 section 3.4) means the user moved;
//   - Postfix's bare "Recipient address rejected." and Exchange Online's
//     "Recipient address rejected: Access denied" (directory-based edge
//     blocking) refuse an unknown recipient;
//   - Gmail reports every DNS lookup failure as "DNS Error: N DNS type …",
//     transient ones too, so it is not proof that the domain is gone;
//   - "host example.org not found" (DragonFly, Sendmail) and "example.org
//     does not exist" name a dead domain;
//   - reply 521 (RFC 7504) says the host accepts no mail.
func hardFormats(d string) string {
	switch {
	case strings.Contains(d, " : user unknown") && kddiFiltered.MatchString(d):
		return ReasonFiltered
	case strings.HasPrefix(strings.TrimSpace(d), "551 ") || strings.Contains(d, "\n551 ") || strings.Contains(d, " 551 5.1.6"):
		return ReasonHasMoved
	case strings.Contains(d, "recipient address rejected: access denied"),
		strings.Contains(d, "recipient address rejected."), strings.Contains(d, "#5.1.0 address rejected"):
		return ReasonUserUnknown
	case strings.Contains(d, "dns error:") && gmailDNS.MatchString(d):
		return ReasonNetworkError
	case (strings.Contains(d, " not found") || strings.Contains(d, " does not exist")) && hostNotFound.MatchString(d):
		return ReasonHostUnknown
	case strings.HasPrefix(strings.TrimSpace(d), "521 ") || strings.Contains(d, " 521 5."):
		return ReasonNotAccept
	}
	return ""
}

var (
	kddiFiltered = regexp.MustCompile(`(?m)(?:^|[;:>]\s*)5\d\d : user unknown`)
	gmailDNS     = regexp.MustCompile(`\bdns error: \d+ dns type`)
	hostNotFound = regexp.MustCompile(`\bhost [a-z0-9.-]+\.[a-z]{2,} not found|\bdomain [a-z0-9.-]+\.[a-z]{2,} not found|(?:^|[\s:])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,} does not exist`)
)

// mailboxStatus corrects an address-is-dead reason by a status of the
// sender or mailbox subject (RFC 3463 sections 3.2, 3.3): X.1.7/X.1.8 are
// about our sender address ("Domain of sender address … does not exist"),
// X.2.x say the mailbox exists (X.2.1 disabled), so the wording is a
// filter's, not a dead address.
func mailboxStatus(reason, status string) string {
	if len(status) < 5 || reason == ReasonNotAccept {
		return reason
	}
	switch {
	case status[2:] == "1.7" || status[2:] == "1.8":
		return ReasonRejected
	case status[2:] == "2.1":
		return ReasonSuspend
	case strings.HasPrefix(status[2:], "2."):
		return ReasonFiltered
	}
	return reason
}

// stripAddresses replaces addresses in a diagnostic so that local parts
// such as "no-such-user@" do not read as words.
func stripAddresses(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return addrRe.ReplaceAllString(s, "<address>")
}

// smtpCommand finds the SMTP command a refusal answered, as MTAs report
// it: Postfix "(in reply to RCPT TO command)", Exim "SMTP error from remote
// mail server after RCPT TO:", Sendmail's transcript ">>> DATA", DragonFly
// "did not like our RCPT TO:", m-FILTER "-------SMTP command\nDATA". It
// returns "MAIL", "RCPT", "DATA" or "".
func smtpCommand(text string) string {
	l := strings.ToLower(text)
	if strings.Contains(l, "in local recipient table") || strings.Contains(l, "in virtual mailbox table") ||
		strings.Contains(l, "in relay recipient table") || strings.Contains(l, "in virtual alias table") {
		// Postfix checks these tables at RCPT time, whatever a relay says.
		return "RCPT"
	}
	if i := strings.LastIndex(l, ">>> "); i >= 0 {
		// Sendmail: the last command sent before the refusal. With
		// pipelining it sends DATA before reading the RCPT answers; its own
		// "550 5.1.1 <addr>... User unknown" line or a "no valid
		// recipients"/"Need RCPT" answer to DATA shows the refusal was the
		// RCPT one.
		c := commandWord(l[i+4:])
		rest := l[i:]
		if c == "DATA" && (strings.Contains(rest, "... ") || strings.Contains(rest, "no valid recipients") ||
			strings.Contains(rest, "need rcpt") || strings.Contains(rest, "must precede data")) {
			return "RCPT"
		}
		if c != "" {
			return c
		}
	}
	switch {
	case strings.Contains(l, "[rcpt_to]"):
		// Yahoo tags the refused command: "… User Unknown [RCPT_TO]".
		return "RCPT"
	case strings.Contains(l, "[mail_from]"):
		return "MAIL"
	}
	for _, m := range []string{"in reply to ", "after ", "did not like our ", "smtp command\n", "smtp command:"} {
		if i := strings.Index(l, m); i >= 0 {
			if c := commandWord(strings.TrimLeft(l[i+len(m):], " \t")); c != "" {
				return c
			}
		}
	}
	return ""
}

func commandWord(s string) string {
	s = strings.TrimPrefix(s, "final ")
	s = strings.TrimPrefix(s, "end of ")
	s = strings.TrimPrefix(s, "pipelined ")
	switch {
	case strings.HasPrefix(s, "mail from"):
		return "MAIL"
	case strings.HasPrefix(s, "rcpt to"), strings.HasPrefix(s, "rcpt command"):
		return "RCPT"
	case strings.HasPrefix(s, "data"):
		return "DATA"
	}
	return ""
}

// adjustForCommand applies what the refused command says about an
// address-is-dead answer: after DATA the recipient already passed RCPT, so
// "user unknown" is the recipient's filter speaking (Japanese carriers
// answer so to mail their users filter); after MAIL FROM the refusal is
// about our sender, not the recipient.
func adjustForCommand(reason, cmd string) string {
	switch {
	case cmd == "DATA" && reason == ReasonUserUnknown:
		return ReasonFiltered
	case cmd == "MAIL" && (reason == ReasonUserUnknown || reason == ReasonHostUnknown || reason == ReasonHasMoved):
		return ReasonRejected
	}
	return reason
}

func matchRules(d string, rules []phraseRule) string {
	for _, r := range rules {
		for _, p := range r.phrases {
			if strings.Contains(d, p) {
				return r.reason
			}
		}
	}
	return ""
}

// reasonWords returns the reason named by a diagnostic's words alone, or "".
func reasonWords(diag string) string {
	d := strings.ToLower(diag)
	for _, rules := range [][]phraseRule{softFirst, hardRules, softRules} {
		if r := matchRules(d, rules); r != "" {
			return r
		}
	}
	return ""
}
