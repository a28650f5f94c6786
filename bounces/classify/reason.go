package classify

import (
	"regexp"
	"strconv"
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
		"domain filter", "receiving restriction", "reception is restricted",
		// Japanese carriers' and MTAs' words for the recipient's own
		// filter: 指定受信 (accept only chosen senders), 受信拒否,
		// 迷惑メールフィルター, なりすまし規制 (spoofing filter).
		"受信拒否", "拒否設定", "指定拒否", "指定受信", "受信設定", "受信制限", "着信拒否",
		"迷惑メールフィルタ", "迷惑メール設定", "なりすまし規制", "なりすましメール拒否"}},
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

// command is the SMTP command a refusal answered ("MAIL", "RCPT", "DATA"
// or "") and the rule that found it.
type command struct {
	name, rule string
}

// decideReason chooses the reason of one failed recipient from its
// diagnostic text, status and the SMTP command that was refused. Specific
// soft wording wins; then replies recognised by their shape; then the
// address-is-dead wording (corrected by status and command, and kept only
// with evidence that the address was refused: see deadAddressEvidence);
// then a status that names the address (x.1.1…) over generic soft words
// such as "rejected"; then soft wording; then the status alone.
func decideReason(dc *decider, diag, status string, cmd command) string {
	if len(diag) > maxDiagBytes {
		diag = diag[:maxDiagBytes]
	}
	if cmd.rule != "" && !dc.on(cmd.rule) {
		cmd = command{}
	}
	d := strings.ToLower(stripAddresses(diag))
	if dc.on("amazonses:wrapper") {
		d = strings.ReplaceAll(d, "unknown address error", "") // Amazon SES's wrapper of every remote refusal
	}
	// MTAs fold lines anywhere ("Host not\n    found"): phrases are looked
	// up with white space collapsed; reply shapes keep the lines.
	flat := strings.Join(strings.Fields(d), " ")
	if r, id, p := dc.matchRules(flat, "soft1", softFirst); r != "" {
		dc.use(id, "reason "+r+": "+strconv.Quote(p)+" in the diagnostic")
		return dc.refineByStatus(r, status)
	}
	if dc.on("yahoo:dd") && strings.Contains(d, "delivery error: dd this user doesn't have") {
		// Yahoo's answer (after DATA) for an account that does not exist.
		dc.use("yahoo:dd", "reason userunknown: Yahoo's \"dd This user doesn't have\" answer")
		return ReasonUserUnknown
	}
	if r, w := softWords(flat); r != "" && dc.on("words:"+r) {
		dc.use("words:"+r, "reason "+r+": "+strconv.Quote(w)+" in the diagnostic")
		return r
	}
	if r := dc.hardFormats(d); r != "" {
		if cmd.name != "RCPT" && (r == ReasonHostUnknown || r == ReasonUserUnknown) {
			r = dc.mailboxStatus(r, status)
		}
		return dc.adjustForCommand(r, cmd)
	}
	if r, id, p := dc.matchRules(flat, "hard", hardRules); r != "" {
		dc.use(id, "reason "+r+": "+strconv.Quote(p)+" in the diagnostic")
		if cmd.name != "RCPT" {
			r = dc.mailboxStatus(r, status)
		}
		r = dc.adjustForCommand(r, cmd)
		return dc.deadAddressEvidence(r, status, flat, cmd)
	}
	if r, w := deadWords(flat); r != "" && dc.on("words:"+r) {
		dc.use("words:"+r, "reason "+r+": "+strconv.Quote(w)+" says the "+deadWhat[r]+" is unknown")
		if cmd.name != "RCPT" {
			r = dc.mailboxStatus(r, status)
		}
		r = dc.adjustForCommand(r, cmd)
		return dc.deadAddressEvidence(r, status, flat, cmd)
	}
	if addressStatus(status) && dc.on("status:names-address") {
		r := reasonFromStatus(status)
		dc.use("status:names-address", "reason "+r+": status "+status+" names the address (RFC 3463)")
		return dc.adjustForCommand(r, cmd)
	}
	if r, id, p := dc.matchRules(flat, "soft", softRules); r != "" {
		dc.use(id, "reason "+r+": "+strconv.Quote(p)+" in the diagnostic")
		return dc.refineByStatus(r, status)
	}
	if r := reasonFromStatus(status); r != "" && dc.on("status:rfc3463") {
		dc.use("status:rfc3463", "reason "+r+": from status "+status+" alone (RFC 3463)")
		return dc.adjustForCommand(r, cmd)
	}
	if strings.TrimSpace(diag) == "" && status == "" {
		dc.use("undefined", "reason undefined: nothing stated")
		return ReasonUndefined
	}
	dc.use("onhold", "reason onhold: no cause stated")
	return ReasonOnHold
}

// deadAddressEvidence turns unknown-user wording into a filter's answer
// when the report itself says the mailbox is not the problem and nothing
// says the address was refused at RCPT TO or by an X.1.x status: a
// policy/security status (RFC 3463 X.7.x: SFR's "550 5.7.1 … User
// unknown"), or filter, block, policy or spam words beside the unknown-user
// words (appliances and carriers' 指定受信 filters answer "user unknown"
// to mail they refuse). The policy status wins even at RCPT TO. This
// follows sisimai's rule (Reason::UserUnknown
// needs an X.1.1 status or a RCPT refusal, Reason::Filtered takes the
// rest), which the corpus labels follow, but only where the report gives
// a reason to doubt the words: with no status and no command named, most
// "user unknown" answers do mean a dead address.
func (dc *decider) deadAddressEvidence(reason, status, d string, cmd command) string {
	if reason != ReasonUserUnknown {
		return reason
	}
	if len(status) >= 5 && status[2:4] == "7." && dc.on("gate:policy-status") {
		dc.use("gate:policy-status", "reason filtered: status "+status+" is a policy refusal, so the unknown-user wording is a filter's")
		return ReasonFiltered
	}
	if cmd.name == "RCPT" || len(status) >= 5 && status[2] == '1' && status[3] == '.' && status[2:] != "1.0" {
		return reason
	}
	if _, id, p := dc.matchRules(d, "gate", filterWords); id != "" {
		dc.use(id, "reason filtered: "+strconv.Quote(p)+" beside the unknown-user wording says a filter refused the mail")
		return ReasonFiltered
	}
	return reason
}

// filterWords are words of a filter or policy refusal; beside unknown-user
// wording they mean the mailbox was not the problem.
var filterWords = []phraseRule{{ReasonFiltered, []string{
	"filter", "blocked", "block list", "policy", "spam", "not authorized", "not permitted",
	"指定", "拒否", "フィルタ"}}}

// softWords finds, by their parts, wordings that override an address
// status (receivers put 5.1.1 on anything they refuse at RCPT): a refusal
// by the recipient's own preferences or filter, a per-hour or per-day
// rate limit, a domain that accepts no mail (RFC 7505 null MX), and the
// resolver's TRY_AGAIN ("Host not found, try again"), a temporary lookup
// failure rather than a dead domain.
func softWords(d string) (reason, words string) {
	for _, w := range softWordRules {
		if !containsAny(d, w.gate) {
			continue
		}
		loc := w.re.FindStringIndex(d)
		if loc == nil {
			continue
		}
		if w.reason == ReasonFiltered && recipientHostRe.MatchString(d[loc[1]:]) {
			// "rejected by the recipient domain" is the receiving
			// system speaking, not the recipient's own setting.
			continue
		}
		return w.reason, d[loc[0]:loc[1]]
	}
	return "", ""
}

var recipientHostRe = regexp.MustCompile(`^\s+(?:domain|server|system|host|mail\s+server)\b`)

var softWordRules = []struct {
	reason string
	gate   []string // words the rule needs; cheaper than the expression
	re     *regexp.Regexp
}{
	{ReasonFiltered, []string{"recipient", "user", "addressee"}, regexp.MustCompile(`\b(?:refused|rejected|blocked|filtered)\s+(?:by|due\s+to)\s+(?:the\s+)?(?:recipient|user|addressee)(?:'s)?(?:\s+(?:preferences|settings|filter))?\b`)},
	{ReasonSpeeding, []string{"too many"}, regexp.MustCompile(`\btoo\s+many\s+(?:recipients|messages|mails?)\s+(?:this|per|in\s+the\s+last|an?)\s+(?:hour|minute|day)\b`)},
	{ReasonNetworkError, []string{"try again", "name resolution"}, regexp.MustCompile(`\bnot\s+found,\s+try\s+again\b|\btemporary\s+failure\s+in\s+name\s+resolution\b`)},
	{ReasonNotAccept, []string{"smtp service", "null", "accept"}, regexp.MustCompile(`\bno\s+smtp\s+service\b|\bnull\s+mx\b|\b(?:does\s+not|doesn't)\s+accept\s+(?:any\s+)?(?:e-?)?mail\b|\baccepts\s+no\s+(?:e-?)?mail\b`)},
}

// deadWords finds unknown-user or unknown-host wording by its parts rather
// than as a fixed phrase: a negative word (unknown, invalid, no such, not
// found, not recognized, does not exist, unrouteable) next to what is
// unknown (user, recipient, mailbox, address, account, userid; host,
// domain). MTAs phrase the same fact in many ways ("Recipient Not Found",
// "The recipient name is not recognized", "Invalid final delivery userid",
// "No such domain"); this rule reads all of them the same way.
func deadWords(d string) (reason, words string) {
	if !containsAny(d, deadGate) {
		return "", ""
	}
	if m := hostWordsRe.FindString(d); m != "" {
		return ReasonHostUnknown, m
	}
	if m := userWordsRe.FindString(d); m != "" {
		return ReasonUserUnknown, m
	}
	return "", ""
}

// deadGate lists the negative words that deadWords' expressions need.
var deadGate = []string{"unknown", "invalid", "no such", "bad", "valid", "nonexistent", "non-existent",
	"unrouteable", "unresolvable", "not found", "not recogni", "not known", "not exist", "n't exist", "be found"}

// containsAny reports whether s contains any of subs.
func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

var deadWhat = map[string]string{ReasonUserUnknown: "mailbox", ReasonHostUnknown: "domain"}

var (
	userWordsRe = regexp.MustCompile(`\b(?:unknown|invalid|no\s+such|bad|no\s+valid|not\s+a\s+valid|nonexistent|non-existent|unrouteable)(?:\s+final\s+delivery|\s+destination|\s+local)?\s+(?:user|recipient|mailbox|address|account|userid|addressee|alias|e-?mail\s+address)(?:e?s)?\b` +
		`|\b(?:user|recipient|mailbox|address|addressee|userid|account)(?:\s+name|\s+address)?\s+(?:is\s+)?(?:unknown|not\s+(?:found|recognized|recognised|known)|does\s+not\s+exist|doesn't\s+exist|invalid|(?:could\s+not|couldn't|cannot|can't)\s+be\s+found)\b`)
	hostWordsRe = regexp.MustCompile(`\b(?:unknown|invalid|no\s+such|unresolvable|unrouteable)\s+(?:mail\s+)?(?:host|domain)(?:\s+name)?\b` +
		`|\b(?:host|domain)(?:\s+name)?\s+(?:is\s+)?(?:unknown|not\s+found|does\s+not\s+exist|doesn't\s+exist)\b`)
)

// refineByStatus lets a precise RFC 3463 status name the cause where the
// wording is generic: X.2.3 "message length exceeds administrative limit"
// over "message too large", X.4.7 "delivery time expired" over the
// connection error that preceded it.
func (dc *decider) refineByStatus(reason, status string) string {
	switch {
	case len(status) < 5:
	case status[2:] == "2.3" && reason == ReasonMesgTooBig && dc.on("status-refine:2.3"):
		dc.use("status-refine:2.3", "reason exceedlimit: status X.2.3")
		return ReasonExceedLimit
	case status[2:] == "4.7" && (reason == ReasonNetworkError || reason == ReasonSystemError) && dc.on("status-refine:4.7"):
		dc.use("status-refine:4.7", "reason expired: status X.4.7")
		return ReasonExpired
	}
	return reason
}

// formatRule is a reply recognised by its shape rather than a phrase.
type formatRule struct {
	id, why, reason string
	match           func(d string) bool
}

// formatRules are checked in order by hardFormats:
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
var formatRules = []formatRule{
	{"format:empty-address-user-unknown", "an empty-address \"5xx : User unknown\" is au/KDDI's filter answer", ReasonFiltered,
		func(d string) bool { return strings.Contains(d, " : user unknown") && kddiFiltered.MatchString(d) }},
	{"format:551", "reply 551 (RFC 5321 3.4) means the user moved", ReasonHasMoved,
		func(d string) bool {
			return (strings.HasPrefix(strings.TrimSpace(d), "551 ") || strings.Contains(d, "\n551 ") ||
				strings.Contains(d, " 551 5.1.6")) && !strings.Contains(d, "551 5.7.")
		}},
	{"format:recipient-address-rejected", "a bare \"Recipient address rejected\" refuses an unknown recipient", ReasonUserUnknown,
		func(d string) bool {
			return strings.Contains(d, "recipient address rejected: access denied") ||
				strings.Contains(d, "recipient address rejected.") || strings.Contains(d, "#5.1.0 address rejected")
		}},
	{"format:gmail-dns", "Gmail's \"DNS Error: N DNS type\" is also used for transient lookups", ReasonNetworkError,
		func(d string) bool { return strings.Contains(d, "dns error:") && gmailDNS.MatchString(d) }},
	{"format:host-not-found", "\"host X not found\" or \"X does not exist\" names a dead domain", ReasonHostUnknown,
		func(d string) bool {
			return (strings.Contains(d, " not found") || strings.Contains(d, " does not exist")) && hostNotFound.MatchString(d)
		}},
	{"format:521", "reply 521 (RFC 7504) says the host accepts no mail", ReasonNotAccept,
		func(d string) bool {
			return strings.HasPrefix(strings.TrimSpace(d), "521 ") || strings.Contains(d, " 521 5.")
		}},
}

// hardFormats returns the reason of the first formatRule that matches d.
func (dc *decider) hardFormats(d string) string {
	for _, f := range formatRules {
		if f.match(d) && dc.on(f.id) {
			dc.use(f.id, "reason "+f.reason+": "+f.why)
			return f.reason
		}
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
func (dc *decider) mailboxStatus(reason, status string) string {
	if len(status) < 5 || reason == ReasonNotAccept {
		return reason
	}
	switch {
	case (status[2:] == "1.7" || status[2:] == "1.8") && dc.on("status-subject:sender"):
		dc.use("status-subject:sender", "reason rejected: status "+status+" is about our sender address")
		return ReasonRejected
	case status[2:] == "2.1" && dc.on("status-subject:2.1"):
		dc.use("status-subject:2.1", "reason suspend: status "+status+" says the mailbox exists but is disabled")
		return ReasonSuspend
	case strings.HasPrefix(status[2:], "2.") && dc.on("status-subject:mailbox"):
		dc.use("status-subject:mailbox", "reason filtered: status "+status+" says the mailbox exists")
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
// returns "MAIL", "RCPT", "DATA" or "" with the ID of the marker rule.
func smtpCommand(text string) command {
	// MTAs fold their explanations anywhere ("(in reply to\n    RCPT TO
	// command)"): markers are looked up in the text with its white space
	// collapsed.
	l := strings.Join(strings.Fields(strings.ToLower(text)), " ")
	if strings.Contains(l, "in local recipient table") || strings.Contains(l, "in virtual mailbox table") ||
		strings.Contains(l, "in relay recipient table") || strings.Contains(l, "in virtual alias table") {
		// Postfix checks these tables at RCPT time, whatever a relay says.
		return command{"RCPT", "cmd-marker:postfix-table"}
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
			return command{"RCPT", "cmd-marker:sendmail-pipelined"}
		}
		if c != "" {
			return command{c, "cmd-marker:sendmail-transcript"}
		}
	}
	// The report names the command: Yahoo tags it ("… User Unknown
	// [RCPT_TO]"), others say "in reply to RCPT TO command", "after RCPT
	// TO:", "did not like our RCPT TO:", "SMTP command DATA", "SMTP:RCPT".
	// One rule: these are ways of saying the same thing.
	switch {
	case strings.Contains(l, "[rcpt_to]"):
		return command{"RCPT", "cmd-marker:named"}
	case strings.Contains(l, "[mail_from]"):
		return command{"MAIL", "cmd-marker:named"}
	}
	for _, m := range []string{"in reply to ", "after ", "did not like our ", "smtp command ", "smtp command:", "smtp:"} {
		if i := strings.Index(l, m); i >= 0 {
			if c := commandWord(strings.TrimLeft(l[i+len(m):], " ")); c != "" {
				return command{c, "cmd-marker:named"}
			}
		}
	}
	return command{}
}

func commandWord(s string) string {
	s = strings.TrimPrefix(s, "final ")
	s = strings.TrimPrefix(s, "end of ")
	s = strings.TrimPrefix(s, "pipelined ")
	switch {
	case strings.HasPrefix(s, "mail from"):
		return "MAIL"
	case strings.HasPrefix(s, "rcpt to"), strings.HasPrefix(s, "rcpt command"), strings.HasPrefix(s, "rcpt "):
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
func (dc *decider) adjustForCommand(reason string, cmd command) string {
	if cmd.name == "" || !dc.on(cmd.rule) {
		return reason
	}
	switch {
	case cmd.name == "DATA" && reason == ReasonUserUnknown && dc.on("cmd:data-user-unknown"):
		dc.use(cmd.rule, "the refusal answered DATA")
		dc.use("cmd:data-user-unknown", "reason filtered: unknown-user wording after DATA is the recipient's filter")
		return ReasonFiltered
	case cmd.name == "MAIL" && (reason == ReasonUserUnknown || reason == ReasonHostUnknown || reason == ReasonHasMoved) &&
		dc.on("cmd:mail-refusal"):
		dc.use(cmd.rule, "the refusal answered MAIL FROM")
		dc.use("cmd:mail-refusal", "reason rejected: a refusal of MAIL FROM is about our sender")
		return ReasonRejected
	case cmd.name == "RCPT" && reason == ReasonUserUnknown:
		dc.use(cmd.rule, "the refusal answered RCPT TO")
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
