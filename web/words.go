package web

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"kawaraban/bounces"
	"kawaraban/progress"
	"kawaraban/scheduler"
	"kawaraban/subscribers"
	"kawaraban/templates"
)

// The domain packages store short English codes (confirmed, send_now,
// hard, issue:3). These view helpers turn each into words of the page's
// language through the catalogue (i18n.go), so the Japanese pages show no
// English word; a code the catalogue does not know is shown as it is,
// which TestPagesSpeakOneLanguage catches.

// word translates prefix+code when the catalogue has it, else returns code.
func (v *view) word(prefix, code string) string {
	if code == "" {
		return ""
	}
	if t := v.T(prefix + code); t != prefix+code {
		return t
	}
	return code
}

// SubStatus names a subscriber's status (unconfirmed, confirmed,
// unsubscribed, suppressed).
func (v *view) SubStatus(s any) string { return v.word("substatus.", fmt.Sprint(s)) }

// BounceClass names a bounce class (hard, soft, autoreply, complaint,
// delivered, other).
func (v *view) BounceClass(c any) string { return v.word("class.", fmt.Sprint(c)) }

// Addr shows a recorded address, or says that it was erased where a keyed
// hash ("erased:…", subscribers.ErasedKey) stands in its place.
func (v *view) Addr(s string) string {
	if subscribers.IsErasedKey(s) {
		return v.T("addr.erased")
	}
	return s
}

// EventKind names a consent or bounce event (opt-in, opt-out, bounce…).
func (v *view) EventKind(k any) string { return v.word("event.", fmt.Sprint(k)) }

// Source names where consent came from (web, empty-mail, import…).
func (v *view) Source(s any) string { return v.word("source.", fmt.Sprint(s)) }

// Role names a user's role.
func (v *view) Role(r any) string { return v.word("role.", fmt.Sprint(r)) }

// IssueStatus names an issue's status ("" for none).
func (v *view) IssueStatus(s any) string { return v.word("status.", fmt.Sprint(s)) }

// IssueAction names what an issue event did (create, send_now, snapshot…).
func (v *view) IssueAction(a any) string { return v.word("action.", fmt.Sprint(a)) }

// Actor names who acted: a login as it is, the system's own parts in words.
func (v *view) Actor(a any) string { return v.word("actor.", fmt.Sprint(a)) }

var recipientsRe = regexp.MustCompile(`^(\d+) recipients?$`)

// EventComment is an issue event's comment; the snapshot's "6 recipients"
// becomes 「宛先 6 件」.
func (v *view) EventComment(comment any) string {
	c := fmt.Sprint(comment)
	if m := recipientsRe.FindStringSubmatch(c); m != nil {
		n, _ := strconv.Atoi(m[1])
		return fmt.Sprintf(v.T("action.recipients"), n)
	}
	if w, ok := v.duplicateComment(c); ok {
		return w
	}
	return c
}

// AuditAction names an audit log action (issue.send, user.add, login…).
func (v *view) AuditAction(a string) string { return v.word("audit.", a) }

// AuditTarget names an audit entry's target: issue:3 → 配信号 #3, list:slug
// → the list's name, user:x → 利用者 x.
func (v *view) AuditTarget(t string) string {
	kind, id, ok := strings.Cut(t, ":")
	if !ok {
		return t
	}
	switch kind {
	case "list":
		return v.ListName(id)
	case "deadline":
		for _, d := range v.deadlines() {
			if d.ID == id {
				return fmt.Sprintf(v.T("target.deadline"), d.Title)
			}
		}
	}
	if v.T("target."+kind) == "target."+kind {
		return t
	}
	return fmt.Sprintf(v.T("target."+kind), id)
}

// AuditDetail translates the parts of an audit entry's detail ("api; list
// shimin-katsudo; to a@example.jp", "role editor; lists a,b") that are
// words; values stay as they are.
func (v *view) AuditDetail(d string) string {
	if d == "" {
		return ""
	}
	parts := strings.Split(d, "; ")
	for i, p := range parts {
		key, val, _ := strings.Cut(p, " ")
		if k, rest, ok := strings.Cut(key, ":"); ok && k == "list" { // "list:slug spec tz"
			parts[i] = v.T("detail.list") + ": " + v.ListName(rest)
			if val != "" {
				parts[i] += " " + val
			}
			continue
		}
		switch key {
		case "api":
			parts[i] = v.T("detail.api")
		case "list":
			parts[i] = v.T("detail.list") + ": " + v.ListName(val)
		case "role":
			parts[i] = v.T("detail.role") + ": " + v.Role(val)
		case "approver":
			parts[i] = v.T("detail.approver") + ": " + v.word("bool.", val)
		case "bureau":
			parts[i] = v.T("detail.bureau") + ": " + v.BureauName(val)
		case "lists", "to", "from", "from-domain", "email", "rows", "reason", "attributes":
			parts[i] = v.T("detail."+key) + ": " + val
		case "at":
			if t, err := time.Parse(time.RFC3339, val); err == nil {
				parts[i] = v.T("detail.at") + ": " + v.Date(t)
			}
		default:
			parts[i] = v.detailList(p)
		}
	}
	return strings.Join(parts, v.T("detail.sep"))
}

var queuedAgainRe = regexp.MustCompile(`^(\d+) deliveries queued again$`)

// detailList words "added 3, existing 1, rejected 0" and "e-mail,
// password"; anything else stays as written (a comment).
func (v *view) detailList(p string) string {
	if m := queuedAgainRe.FindStringSubmatch(p); m != nil {
		n, _ := strconv.Atoi(m[1])
		return fmt.Sprintf(v.T("detail.queuedagain"), n)
	}
	items := strings.Split(p, ", ")
	for i, it := range items {
		key, val, _ := strings.Cut(it, " ")
		if _, ok := catalog["detail."+key]; !ok || strings.ContainsAny(val, " ") {
			return p
		}
		items[i] = v.T("detail." + key)
		if val != "" {
			items[i] += " " + val
		}
	}
	return strings.Join(items, "、")
}

// ScheduleName names a schedule: the job in words, with its list or issue.
func (v *view) ScheduleName(st scheduler.Status) string {
	switch st.Kind {
	case "":
		return st.Name
	case "list-recurring":
		return v.T("job.list-recurring") + ": " + v.ListName(scheduleList(st))
	case "issue-send":
		return fmt.Sprintf(v.T("job.issue-send"), st.Name)
	}
	return v.word("job.", st.Kind)
}

func (v *view) deadlines() []progress.DeadlineStatus {
	if v.plan == nil {
		return nil
	}
	return v.plan()
}

// BureauName is a bureau's Japanese name (the plan has no other), or its
// id when unknown.
func (v *view) BureauName(id string) string {
	for _, d := range v.deadlines() {
		for _, b := range d.Bureaus {
			if b.Bureau == id && b.Name != "" {
				return b.Name
			}
		}
	}
	return id
}

var labelRe = regexp.MustCompile(`^(before|overdue|escalate)-(\d+)$`)

// ReminderLabel words a reminder rule's label: before-7 → 期限の7日前,
// due → 期限当日, overdue-3 → 期限後3日, escalate-7 → 期限後7日(総合企画局へ).
func (v *view) ReminderLabel(l string) string {
	if m := labelRe.FindStringSubmatch(l); m != nil {
		n, _ := strconv.Atoi(m[2])
		return fmt.Sprintf(v.T("reminder."+m[1]), n)
	}
	return v.word("reminder.", l)
}

// consentPhrases are the details package subscribers records with a
// consent event, and their catalogue keys.
var consentPhrases = []struct{ phrase, key string }{
	{"confirmed by link", "consent.confirmed"},
	{"single opt-in", "consent.single"},
	{"joined from the preferences page (address verified by mail)", "consent.prefs"},
	{"added by ", "consent.addedby"},
}

// ConsentDetail words the recorded detail of a consent event; the evidence
// after it (IP address, Message-ID) and free text stay as they are.
func (v *view) ConsentDetail(d string) string {
	for _, c := range consentPhrases {
		if rest, ok := strings.CutPrefix(d, c.phrase); ok {
			if strings.HasSuffix(c.phrase, " ") { // "added by admin 127.0.0.1"
				src, more, _ := strings.Cut(rest, " ")
				return strings.TrimSpace(fmt.Sprintf(v.T(c.key), v.Source(src)) + " " + more)
			}
			return v.T(c.key) + rest
		}
	}
	return d
}

// SchedResult names a fire's result (ok, failed, skipped, running).
func (v *view) SchedResult(r any) string { return v.word("sched.result.", fmt.Sprint(r)) }

// ListName is the name of the list slug in the page's language; the slug
// itself when the list is unknown.
func (v *view) ListName(slug string) string {
	if slug == "" {
		return ""
	}
	if v.lists != nil {
		for _, l := range v.lists() {
			if l.Slug == slug {
				return v.Name(l.NameJA, l.NameEN)
			}
		}
	}
	return slug
}

// statusMeanings explains the enhanced status codes (RFC 3463) that bounces
// carry most often, by code and then by class and subject.
var statusMeanings = []string{"5.1.1", "5.1.2", "5.1.6", "5.1.10", "5.2.1", "5.2.2", "5.2.3", "5.3.4", "5.4.1", "5.7.1", "5.7.26",
	"4.2.2", "4.4.1", "4.4.7", "4.7.1", "4.7.0", "5.0.0", "4.0.0"}

// StatusMeaning says in words what an enhanced status code means: its own
// entry (5.1.1), else its class and subject (5.1.x), else its class (5.x.x).
func (v *view) StatusMeaning(code string) string {
	if code == "" {
		return ""
	}
	parts := strings.Split(code, ".")
	for _, k := range []string{code, strings.Join(parts[:min(2, len(parts))], ".") + ".x", parts[0] + ".x.x"} {
		if _, ok := catalog["dsn."+k]; ok {
			return v.T("dsn." + k)
		}
	}
	return ""
}

// BounceExplain says what a bounce was and what was done about it, in the
// page's language (its class has a column of its own): the status code's meaning, how it was tied to a
// delivery and the outcome.
func (v *view) BounceExplain(b Bounce) string {
	return v.bounceWords(b.Status, b.AttributedBy, b.Outcome)
}

// ReportExplain is BounceExplain for the bounces package's own type.
func (v *view) ReportExplain(b bounces.Bounce) string {
	return v.bounceWords(b.Status, b.AttributedBy, b.Outcome)
}

func (v *view) bounceWords(status, attributedBy, outcome string) string {
	var out []string
	if m := v.StatusMeaning(status); m != "" {
		out = append(out, m)
	}
	if attributedBy != "" {
		out = append(out, v.word("attributed.", attributedBy))
	}
	if outcome != "" {
		out = append(out, v.word("outcome.", outcome))
	}
	return strings.Join(out, v.T("detail.sep"))
}

var (
	unknownFieldRe = regexp.MustCompile(`unknown field \.?([^ ]+)`)
	notAllowedRe   = regexp.MustCompile(`are allowed, not (.+)$`)
)

// TemplateProblem says what is wrong with a subject or body in words an
// editor understands: where (件名, 本文 7行目), which placeholder, and which
// placeholders exist. ok is false when err is no template error.
func (v *view) TemplateProblem(err error) (string, bool) {
	var te *templates.TemplateError
	if !errors.As(err, &te) {
		return "", false
	}
	where := v.T("jis." + te.File)
	if te.File != "subject" && te.File != "body" {
		where = te.File
	}
	if te.Line > 0 {
		where += " " + fmt.Sprintf(v.T("jis.line"), te.Line)
	}
	var what string
	switch {
	case unknownFieldRe.MatchString(te.Msg):
		what = fmt.Sprintf(v.T("tmpl.unknown"), "{{ ."+unknownFieldRe.FindStringSubmatch(te.Msg)[1]+" }}")
	case notAllowedRe.MatchString(te.Msg):
		what = fmt.Sprintf(v.T("tmpl.notallowed"), strings.TrimSpace(notAllowedRe.FindStringSubmatch(te.Msg)[1]))
	case strings.Contains(te.Msg, "define") || strings.Contains(te.Msg, "block"):
		what = v.T("tmpl.define")
	default:
		what = v.T("tmpl.syntax")
		if v.EN() {
			what += " (" + te.Msg + ")"
		}
	}
	return where + ": " + what + " " + v.T("tmpl.fields"), true
}
