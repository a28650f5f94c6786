package classify

import (
	"regexp"
	"strings"
)

// arfReport reads an RFC 5965 feedback report. Feedback-Type auth-failure
// (RFC 6591) is a machine's DMARC/SPF/DKIM failure report, not a person's
// complaint, so it is Other; every other type is a Complaint.
func arfReport(p *parsed, rep *Report) {
	rep.Format = "arf"
	var rcpts []string
	for _, body := range p.feedback {
		for _, f := range dsnFields(body) {
			switch f[0] {
			case "feedback-type":
				if rep.FeedbackType == "" {
					rep.FeedbackType = strings.ToLower(strings.Fields(f[1] + " x")[0])
				}
			case "original-rcpt-to", "removal-recipient":
				rcpts = append(rcpts, findAddresses(f[1])...)
			}
		}
	}
	if len(rcpts) == 0 && p.original != nil {
		// RFC 5965 section 3.2: Original-Rcpt-To is optional; the returned
		// message's To is the complained-about address.
		rcpts = findAddresses(decodeHeader(p.original.Get("To")))
	}
	class, reason := Complaint, ReasonFeedback
	why := "class complaint: ARF feedback report (RFC 5965), Feedback-Type " + rep.FeedbackType
	if rep.FeedbackType == "auth-failure" {
		class = Other
		why = "class other: ARF auth-failure report (RFC 6591), a machine's DMARC/SPF/DKIM report, not a person"
	}
	for _, a := range dedupe(rcpts) {
		rep.Recipients = append(rep.Recipients, Recipient{Address: a, Class: class, Reason: reason, Action: "failed", Why: why})
	}
}

// jmrpReport reads a Microsoft JMRP complaint (Hotmail/Outlook.com junk
// mail reporting): no feedback-report part, only the reported message with
// an X-HmXmrOriginalRecipient header naming the complaining recipient.
func jmrpReport(p *parsed, rep *Report) bool {
	if p.original == nil || p.original.Get("X-HmXmrOriginalRecipient") == "" {
		return false
	}
	rep.Format = "arf"
	rep.FeedbackType = "abuse"
	for _, a := range findAddresses(p.original.Get("X-HmXmrOriginalRecipient")) {
		rep.Recipients = append(rep.Recipients, Recipient{Address: a, Class: Complaint, Reason: ReasonFeedback, Action: "failed",
			Why: "class complaint: Microsoft JMRP report (X-HmXmrOriginalRecipient)"})
	}
	return true
}

// autoReplySubject matches the subjects of vacation and out-of-office
// replies from Exchange/Outlook ("Automatic reply:", "Out of Office:"),
// Apple Mail, Gmail, Japanese clients (自動応答, 自動返信, 不在) and others:
// generic words at the start, specific phrases anywhere ("【自動返信】…").
var autoReplySubject = regexp.MustCompile(`(?i)^\s*(?:auto(?:matic)?[ -]?(?:reply|response|respons|answer)|autoreply|auto:|out of (?:the )?office|vacation|away from|absence|abwesenheit|réponse automatique|respuesta automática|不在)|automatic reply|auto[- ]?reply|out of (?:the )?office|自動応答|自動返信|自動送信|不在通知`)

// isAutoReply reports RFC 3834 section 5 signals (Auto-Submitted:
// auto-replied) and the de-facto ones (X-Autoreply, X-Autorespond,
// Precedence: auto_reply, typical subjects).
func isAutoReply(p *parsed) bool {
	h := p.header
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))), "auto-replied") {
		return true
	}
	if h.Get("X-Autoreply") != "" || h.Get("X-Autorespond") != "" || h.Get("X-Autoresponder") != "" {
		return true
	}
	if strings.EqualFold(strings.TrimSpace(h.Get("Precedence")), "auto_reply") {
		return true
	}
	return autoReplySubject.MatchString(p.subject)
}

// autoReply records an auto-reply; the replying address is From.
func autoReply(p *parsed, rep *Report) {
	rep.Format = "autoreply"
	if p.from != "" {
		rep.Recipients = []Recipient{{Address: p.from, Class: AutoReply, Reason: ReasonVacation, Action: "autoreplied",
			Why: "class autoreply: RFC 3834 auto-reply headers or subject, and no failure stated"}}
	}
}

// strongBounce reports the signals that only mail systems send: a bounce
// sender, X-Failed-Recipients, a bounce subject or multipart/report. A
// null Return-Path or body wording alone is weaker (RFC 3834 auto-replies
// also use a null sender).
func strongBounce(p *parsed) bool {
	if p.hasReport || p.header.Get("X-Failed-Recipients") != "" {
		return true
	}
	f := strings.ToLower(p.fromName)
	for _, s := range bounceSenders {
		if strings.Contains(f, s) {
			return true
		}
	}
	return bounceSubject.MatchString(p.subject) && !replySubject.MatchString(p.subject)
}

// bounceSenders are local parts and display names that MTAs send bounces
// from (RFC 3464 section 2 suggests MAILER-DAEMON/postmaster).
var bounceSenders = []string{"mailer-daemon", "postmaster", "mail delivery", "mail administrator",
	"mail-daemon", "maildaemon", "mailerdaemon", "system administrator", "mdaemon", "mail.delivery",
	"mail_delivery", "post_master", "delivery subsystem", "postoffice", "mailer@", "root@", "microsoftexchange",
	"mail system", "smtp gateway", "mailadmin", "nobody@", "daemon@"}

// bounceSubject matches bounce subjects of the MTAs covered here.
var bounceSubject = regexp.MustCompile(`(?i)undeliver|undelivered|delivery status|delivery fail|delivery notification|failure notice|returned mail|mail delivery|could not be delivered|non[- ]?deliver|nondeliverable|delivery problem|mail system error|returned to sender|delivery report|not delivered|unable to deliver|delivery error|failed delivery|warning: message|error sending|rejected|mail failure|message failure|bounce|配信エラー|配送エラー|配信不能|配送不能|不達|送信エラー|届きませんでした|送信できません|返送`)

// replySubject matches a person's reply or forward ("Re:", "Fwd:", "返信:"),
// whose subject may quote anything.
var replySubject = regexp.MustCompile(`(?i)^\s*(?:re|fwd?|aw|sv|返信|転送)\s*[:：]`)

// looksLikeBounce reports whether p comes from a mail system rather than a
// person: bounce sender, X-Failed-Recipients (Exim, Gmail), a bounce
// subject, or multipart/report.
func looksLikeBounce(p *parsed) bool {
	if strongBounce(p) {
		return true
	}
	// RFC 5321 section 4.5.5: a notification has a null reverse-path. RFC
	// 3834 recommends the same for auto-replies, so those are excluded; a
	// bounce with an unremarkable From and Subject (KDDI's "Mail") still
	// states a failure in its text.
	if strings.TrimSpace(p.header.Get("Return-Path")) == "<>" && !isAutoReply(p) {
		return true
	}
	l := strings.ToLower(p.bodyText())
	for _, w := range []string{"could not be delivered to", "was not delivered to", "wasn't able to deliver",
		"permanent fatal errors", "did not reach the following recipient", "delivery to the following recipient",
		"unable to deliver your message", "following address(es) failed"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// dedupe removes repeated addresses, ignoring case, keeping order.
func dedupe(as []string) []string {
	seen := make(map[string]bool, len(as))
	out := as[:0:0]
	for _, a := range as {
		k := strings.ToLower(a)
		if !seen[k] {
			seen[k] = true
			out = append(out, a)
		}
	}
	return out
}
