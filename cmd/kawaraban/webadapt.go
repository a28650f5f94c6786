package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"kawaraban/bounces"
	"kawaraban/bounces/classify"
	"kawaraban/issues"
	"kawaraban/mailer"
	"kawaraban/progress"
	"kawaraban/subscribers"
	"kawaraban/templates"
	"kawaraban/web"
)

// webErr translates domain errors into the sentinels web maps to statuses.
func webErr(err error) error {
	var ae *subscribers.AddressError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae):
		return &web.InputError{Field: "email", Message: ae.Message, MessageJA: ae.MessageJA}
	case errors.Is(err, subscribers.ErrBadToken), errors.Is(err, subscribers.ErrExpiredToken),
		errors.Is(err, progress.ErrInvalidToken):
		return fmt.Errorf("%w: %v", web.ErrInvalidToken, err)
	case errors.Is(err, subscribers.ErrNotFound), errors.Is(err, subscribers.ErrUnknownList),
		errors.Is(err, issues.ErrNotFound), errors.Is(err, progress.ErrNotFound), errors.Is(err, bounces.ErrNotFound):
		return fmt.Errorf("%w: %v", web.ErrNotFound, err)
	case errors.Is(err, subscribers.ErrNoList):
		return &web.InputError{Field: "list", Message: "choose at least one list", MessageJA: "配信リストを1つ以上選んでください"}
	case errors.Is(err, subscribers.ErrDomainNotAllowed):
		return &web.InputError{Field: "email", Message: err.Error(), MessageJA: "このリストに登録できないドメインのアドレスです"}
	case errors.Is(err, subscribers.ErrConsentSourceRequired), errors.Is(err, subscribers.ErrBadCSV):
		return &web.InputError{Field: "file", Message: err.Error(), MessageJA: "CSVファイルを確認してください: " + err.Error()}
	case errors.Is(err, issues.ErrInvalid):
		return &web.InputError{Field: "issue", Message: err.Error(), MessageJA: "入力内容を確認してください: " + err.Error()}
	case errors.Is(err, issues.ErrNeedsApproval):
		return fmt.Errorf("%w: %v", web.ErrApprovalRequired, err)
	case errors.Is(err, issues.ErrInvalidTransition), errors.Is(err, issues.ErrImmutable), errors.Is(err, issues.ErrSelfApproval):
		return fmt.Errorf("%w: %v", web.ErrConflict, err)
	}
	return err
}

func webList(l subscribers.List) web.List {
	return web.List{ID: l.ID, Slug: l.Slug, NameJA: l.NameJA, NameEN: l.NameEN, Kind: l.Kind, RequireApproval: l.RequireApproval}
}

func subEvidence(ev web.Evidence) subscribers.Evidence {
	return subscribers.Evidence{IP: ev.IP, UserAgent: ev.UserAgent, MessageID: ev.MessageID, Actor: ev.Actor}
}

// webSubscribers serves the public pages (web.Subscribers).
type webSubscribers struct{ a *app }

func (w webSubscribers) Lists(ctx context.Context) ([]web.List, error) {
	ls, err := w.a.subs.Lists(ctx)
	out := make([]web.List, 0, len(ls))
	for _, l := range ls {
		out = append(out, webList(l))
	}
	return out, webErr(err)
}

func (w webSubscribers) Subscribe(ctx context.Context, r web.SubscribeRequest) error {
	return webErr(w.a.subs.Subscribe(ctx, subscribers.SubscribeRequest{
		Email: r.Email, Name: r.Name, Lists: r.Lists, Source: r.Source, Evidence: subEvidence(r.Evidence), Lang: r.Lang,
	}))
}

func (w webSubscribers) Confirm(ctx context.Context, tok string, ev web.Evidence) (web.ConfirmResult, error) {
	res, err := w.a.subs.Confirm(ctx, tok, subEvidence(ev))
	out := web.ConfirmResult{SubscriberID: res.SubscriberID}
	for _, l := range res.Lists {
		out.Lists = append(out.Lists, webList(l))
	}
	return out, webErr(err)
}

func (w webSubscribers) UnsubscribeInfo(ctx context.Context, tok string) (web.UnsubscribeInfo, error) {
	in, err := w.a.subs.UnsubscribeInfo(ctx, tok)
	return web.UnsubscribeInfo{List: webList(in.List), MaskedEmail: in.MaskedEmail, Unsubscribed: !in.Subscribed}, webErr(err)
}

func (w webSubscribers) UnsubscribeByToken(ctx context.Context, tok, source string, ev web.Evidence) error {
	_, err := w.a.subs.UnsubscribeByToken(ctx, tok, source, subEvidence(ev))
	return webErr(err)
}

func (w webSubscribers) Preferences(ctx context.Context, tok string) (web.Preferences, error) {
	p, err := w.a.subs.Preferences(ctx, tok)
	out := web.Preferences{MaskedEmail: p.MaskedEmail}
	for _, pl := range p.Lists {
		out.Lists = append(out.Lists, web.PreferenceList{List: webList(pl.List), Subscribed: pl.Subscribed})
	}
	return out, webErr(err)
}

func (w webSubscribers) SavePreferences(ctx context.Context, tok string, slugs []string, ev web.Evidence) error {
	return webErr(w.a.subs.SavePreferences(ctx, tok, slugs, subEvidence(ev)))
}

// webSubscriberAdmin serves the admin's subscriber pages (web.SubscriberAdmin).
type webSubscriberAdmin struct{ a *app }

func (w webSubscriberAdmin) Search(ctx context.Context, listSlug, query string, limit, offset int) ([]web.Subscriber, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, _, err := w.a.subs.Search(ctx, subscribers.SearchQuery{ListSlug: listSlug, Text: query, Page: offset/limit + 1, PerPage: limit})
	out := make([]web.Subscriber, 0, len(rows))
	for _, r := range rows {
		out = append(out, web.Subscriber{ID: r.SubscriberID, Email: r.Email, Name: r.Name, Status: r.Status, Created: r.Created})
	}
	return out, webErr(err)
}

func (w webSubscriberAdmin) SubscriberLists(ctx context.Context, subscriberID int64) ([]string, error) {
	slugs, err := w.a.subs.SubscriberLists(ctx, subscriberID)
	return slugs, webErr(err)
}

func (w webSubscriberAdmin) History(ctx context.Context, subscriberID int64) ([]web.HistoryEvent, error) {
	evs, err := w.a.subs.History(ctx, subscriberID)
	out := make([]web.HistoryEvent, 0, len(evs))
	for _, e := range evs {
		detail := e.Detail
		if e.Evidence.IP != "" || e.Evidence.MessageID != "" {
			detail = fmt.Sprintf("%s %s %s %s", detail, e.Evidence.IP, e.Evidence.MessageID, e.Evidence.Actor)
		}
		out = append(out, web.HistoryEvent{At: e.At, Kind: e.Event, List: e.ListSlug, Source: e.Source, Detail: detail})
	}
	if bs, err := w.a.bounces.List(ctx, bounces.Filter{SubscriberID: subscriberID, PerPage: 100}); err == nil {
		// A bounce belongs to its issue's list, so web shows it only to
		// those who may view that list.
		wb := webBounces{w.a}
		for _, b := range bs {
			out = append(out, web.HistoryEvent{At: b.Received, Kind: "bounce", List: wb.listOf(ctx, b.IssueID),
				Source: string(b.Class), Detail: b.Explanation()})
		}
	}
	return out, webErr(err)
}

func (w webSubscriberAdmin) Stats(ctx context.Context, listSlug string) (web.ListStats, error) {
	l, err := w.a.subs.ListBySlug(ctx, listSlug)
	if err != nil {
		return web.ListStats{}, webErr(err)
	}
	st, err := w.a.subs.Stats(ctx, l.ID)
	if err != nil {
		return web.ListStats{}, webErr(err)
	}
	out := web.ListStats{Confirmed: st.Confirmed}
	out.BounceRate, out.ComplaintRate, err = w.rates(ctx, l.ID)
	return out, webErr(err)
}

// rates are the bounce and complaint rates over the list's last ten
// issues: bounced (or complained) deliveries per delivery attempted.
func (w webSubscriberAdmin) rates(ctx context.Context, listID int64) (bounce, complaint float64, err error) {
	iss, err := w.a.issues.ListByList(ctx, listID, issues.Page{Limit: 10})
	if err != nil {
		return 0, 0, err
	}
	var total, bounced, complaints int
	for _, is := range iss {
		if is.Recipients == nil {
			continue
		}
		p, err := w.a.mail.Progress(ctx, is.ID)
		if err != nil {
			return 0, 0, err
		}
		total += p.Sent + p.Bounced + p.Failed
		bounced += p.Bounced
		c, err := w.a.bounces.CountsByIssue(ctx, is.ID)
		if err != nil {
			return 0, 0, err
		}
		complaints += c[classify.Complaint]
	}
	if total == 0 {
		return 0, 0, nil
	}
	return float64(bounced) / float64(total), float64(complaints) / float64(total), nil
}

func (w webSubscriberAdmin) Growth(ctx context.Context, listSlug string, days int) ([]web.GrowthPoint, error) {
	l, err := w.a.subs.ListBySlug(ctx, listSlug)
	if err != nil {
		return nil, webErr(err)
	}
	dc, err := w.a.subs.Growth(ctx, l.ID, days)
	out := make([]web.GrowthPoint, 0, len(dc))
	for _, d := range dc {
		out = append(out, web.GrowthPoint{Day: d.Day, Confirmed: d.Subscribed})
	}
	return out, webErr(err)
}

func (w webSubscriberAdmin) Import(ctx context.Context, r io.Reader, opt web.ImportOptions) (web.ImportReport, error) {
	rep, err := w.a.subs.Import(ctx, r, subscribers.ImportOptions{
		ListSlug: opt.ListSlug, ConsentSource: opt.ConsentSource, DryRun: opt.DryRun, Actor: opt.Actor,
	})
	out := web.ImportReport{Added: rep.Added, Existing: rep.Updated + rep.Unchanged}
	for _, rr := range rep.Rejected {
		out.Rejected = append(out.Rejected, web.ImportReject{Line: rr.Line, Reason: rr.Reason})
	}
	return out, webErr(err)
}

func (w webSubscriberAdmin) AddMember(ctx context.Context, listSlug, email, name, source string, ev web.Evidence) error {
	return webErr(w.a.subs.AddMember(ctx, listSlug, email, name, source, subEvidence(ev)))
}

func (w webSubscriberAdmin) ExportSubscribers(ctx context.Context, out io.Writer, listSlug string) error {
	return webErr(w.a.subs.ExportSubscribers(ctx, out, listSlug, true))
}

// webIssues serves the issue pages and the API (web.Issues).
type webIssues struct{ a *app }

func actor(login string) issues.Actor { return issues.Actor{Login: login, Source: "web"} }

func (w webIssues) issue(ctx context.Context, is issues.Issue, err error) (web.Issue, error) {
	if err != nil {
		return web.Issue{}, webErr(err)
	}
	out := web.Issue{
		ID: is.ID, ListID: is.ListID, Subject: is.Subject, BodyMarkdown: is.BodyMarkdown, Status: is.Status,
		Author: is.Author, Created: is.CreatedAt, NeedsApproval: is.RequireApproval, Approved: is.ApprovedBy != "",
	}
	if is.SendAt != nil {
		out.SendAt = *is.SendAt
	}
	if is.SentAt != nil {
		out.SentAt = *is.SentAt
	}
	// Delivery counts come from web.Deliveries where a page shows them:
	// counting here too made every issue view count the outbox twice, and
	// the public archive count it for nothing.
	if is.SendAt != nil && (is.Status == issues.StatusSending || is.Status == issues.StatusSent) {
		// "Unsubscribed" on the dashboard: opt-outs from the list in the
		// week after the issue went out.
		if n, err := w.a.subs.OptOuts(ctx, is.ListID, *is.SendAt, is.SendAt.Add(7*24*time.Hour)); err == nil {
			out.Counts.Unsubscribed = n
		}
	}
	return out, nil
}

func (w webIssues) draft(ctx context.Context, d web.Draft) (issues.Draft, error) {
	out := issues.Draft{ListID: d.ListID, Subject: d.Subject, BodyMarkdown: d.BodyMarkdown, Author: d.Author, Source: "web"}
	if !d.SendAt.IsZero() {
		t := d.SendAt
		out.SendAt = &t
	}
	// web decides (list setting and author's role); issues fixes it at Create.
	out.RequireApproval = d.RequireApproval
	return out, nil
}

// check renders the draft for its real list, so a template error or a list
// without its legal sender details is refused when saved, not at send time.
func (w webIssues) check(ctx context.Context, d web.Draft) error {
	if _, err := w.a.render.preview(ctx, d.ListID, d.Subject, d.BodyMarkdown, ""); err != nil {
		return &web.InputError{Field: "body_markdown", Message: err.Error(), MessageJA: "本文またはリストの設定に誤りがあります: " + err.Error()}
	}
	return nil
}

func (w webIssues) Create(ctx context.Context, d web.Draft) (web.Issue, error) {
	dr, err := w.draft(ctx, d)
	if err != nil {
		return web.Issue{}, err
	}
	if err := w.check(ctx, d); err != nil {
		return web.Issue{}, err
	}
	is, err := w.a.issues.Create(ctx, dr)
	return w.issue(ctx, is, err)
}

func (w webIssues) Update(ctx context.Context, id int64, d web.Draft) (web.Issue, error) {
	dr, err := w.draft(ctx, d)
	if err != nil {
		return web.Issue{}, err
	}
	if err := w.check(ctx, d); err != nil {
		return web.Issue{}, err
	}
	is, err := w.a.issues.Update(ctx, id, dr, actor(d.Author))
	return w.issue(ctx, is, err)
}

func (w webIssues) ByID(ctx context.Context, id int64) (web.Issue, error) {
	is, err := w.a.issues.ByID(ctx, id)
	return w.issue(ctx, is, err)
}

func (w webIssues) list(ctx context.Context, iss []issues.Issue, err error) ([]web.Issue, error) {
	if err != nil {
		return nil, webErr(err)
	}
	out := make([]web.Issue, 0, len(iss))
	for _, is := range iss {
		wi, _ := w.issue(ctx, is, nil)
		out = append(out, wi)
	}
	return out, nil
}

func (w webIssues) ListByList(ctx context.Context, listID int64, limit, offset int) ([]web.Issue, error) {
	iss, err := w.a.issues.ListByList(ctx, listID, issues.Page{Limit: limit, Offset: offset})
	return w.list(ctx, iss, err)
}

func (w webIssues) Archive(ctx context.Context, listID int64, limit, offset int) ([]web.Issue, error) {
	iss, err := w.a.issues.Archive(ctx, listID, limit, offset)
	return w.list(ctx, iss, err)
}

func (w webIssues) Schedule(ctx context.Context, id int64, at time.Time, login string) error {
	if _, err := w.a.issues.Schedule(ctx, id, at, actor(login)); err != nil {
		return webErr(err)
	}
	return w.a.scheduleIssue(ctx, id, at)
}

func (w webIssues) SendNow(ctx context.Context, id int64, login string) error {
	_, err := w.a.issues.SendNow(ctx, id, actor(login))
	if err == nil {
		w.a.kick()
	}
	return webErr(err)
}

func (w webIssues) Pause(ctx context.Context, id int64, login string) error {
	if _, err := w.a.issues.Pause(ctx, id, actor(login)); err != nil {
		return webErr(err)
	}
	return webErr(ignoreNotRunning(w.a.mail.Pause(ctx, id)))
}

func (w webIssues) Resume(ctx context.Context, id int64, login string) error {
	if _, err := w.a.issues.Resume(ctx, id, actor(login)); err != nil {
		return webErr(err)
	}
	return webErr(ignoreNotRunning(w.a.mail.Resume(ctx, id)))
}

func (w webIssues) Cancel(ctx context.Context, id int64, login string) error {
	if _, err := w.a.issues.Cancel(ctx, id, actor(login)); err != nil {
		return webErr(err)
	}
	return webErr(ignoreNotRunning(w.a.mail.Cancel(ctx, id)))
}

func (w webIssues) RetryFailed(ctx context.Context, id int64, login string) (int, error) {
	is, err := w.a.issues.ByID(ctx, id)
	if err != nil {
		return 0, webErr(err)
	}
	if is.Status == issues.StatusCancelled || is.Status == issues.StatusDraft || is.Status == issues.StatusScheduled {
		return 0, fmt.Errorf("%w: issue is %s", web.ErrConflict, is.Status)
	}
	n, err := w.a.mail.RetryFailed(ctx, id)
	if err != nil {
		return 0, webErr(ignoreNotRunning(err))
	}
	w.a.e.log.Info("failed deliveries queued again", "issue_id", id, "count", n, "by", login)
	return n, nil
}

// ignoreNotRunning: pausing an issue the outbox has not started is fine.
func ignoreNotRunning(err error) error {
	if errors.Is(err, mailer.ErrUnknownIssue) {
		return nil
	}
	return err
}

func (w webIssues) Approve(ctx context.Context, id int64, login string) error {
	_, err := w.a.issues.Approve(ctx, id, actor(login), "")
	return webErr(err)
}

func (w webIssues) Reject(ctx context.Context, id int64, login, comment string) error {
	_, err := w.a.issues.Reject(ctx, id, actor(login), comment)
	return webErr(err)
}

// TestSend sends the issue as the first recipient would get it to to.
func (w webIssues) TestSend(ctx context.Context, id int64, to string) error {
	is, err := w.a.issues.ByID(ctx, id)
	if err != nil {
		return webErr(err)
	}
	msg, err := w.a.render.preview(ctx, is.ListID, is.Subject, is.BodyMarkdown, to)
	if err != nil {
		return &web.InputError{Field: "body_markdown", Message: err.Error(), MessageJA: "本文を確認してください: " + err.Error()}
	}
	msg.Subject = "[テスト] " + msg.Subject
	_, err = w.a.sendSystem(ctx, msg)
	return err
}

func (w webIssues) Events(ctx context.Context, id int64) ([]web.IssueEvent, error) {
	evs, err := w.a.issues.Events(ctx, id)
	out := make([]web.IssueEvent, 0, len(evs))
	for _, e := range evs {
		out = append(out, web.IssueEvent{At: e.At, Actor: e.Actor, Action: string(e.Action), From: e.From, To: e.To, Comment: e.Comment})
	}
	return out, webErr(err)
}

// webRenderer renders previews (web.Renderer).
type webRenderer struct{ a *app }

func (w webRenderer) Preview(ctx context.Context, listID int64, subject, markdown string) (web.Parts, error) {
	msg, err := w.a.render.preview(ctx, listID, subject, markdown, "")
	if err != nil {
		return web.Parts{}, &web.InputError{Field: "body_markdown", Message: err.Error(), MessageJA: "本文を確認してください: " + err.Error()}
	}
	return web.Parts{Subject: msg.Subject, Text: msg.Text, HTML: msg.HTML}, nil
}

func (w webRenderer) PreviewFor(ctx context.Context, listID int64, subject, markdown string, subscriberID int64) (web.Parts, error) {
	rc, err := w.a.subs.RecipientOf(ctx, listID, subscriberID)
	if err != nil {
		return web.Parts{}, webErr(err)
	}
	msg, err := w.a.render.previewFor(ctx, listID, subject, markdown, templates.Recipient{Name: rc.Name, Email: rc.Email, Fields: rc.Attributes})
	if err != nil {
		return web.Parts{}, &web.InputError{Field: "body_markdown", Message: err.Error(), MessageJA: "本文を確認してください: " + err.Error()}
	}
	return web.Parts{Subject: msg.Subject, Text: msg.Text, HTML: msg.HTML}, nil
}

func (w webRenderer) MarkdownHTML(md string) (string, error) { return templates.MarkdownHTML(md) }

// webDeliveries reports sending progress (web.Deliveries).
type webDeliveries struct{ a *app }

func (w webDeliveries) Progress(ctx context.Context, issueID int64) (web.Progress, error) {
	p, err := w.a.mail.Progress(ctx, issueID)
	return web.Progress{Queued: p.Queued, Sending: p.Sending, Sent: p.Sent, Failed: p.Failed, Bounced: p.Bounced,
		Skipped: p.Skipped, PerSecond: p.PerSecond, ETA: p.ETA, LastError: p.LastError, LastErrorAt: p.LastErrorAt}, err
}

// webBounces lists bounces (web.Bounces).
type webBounces struct{ a *app }

func (w webBounces) List(ctx context.Context, f web.BounceFilter) ([]web.Bounce, error) {
	per := f.Limit
	if per <= 0 {
		per = 50
	}
	filter := bounces.Filter{Class: classify.Class(f.Class), Page: f.Offset/per + 1, PerPage: per}
	bs, err := w.a.bounces.List(ctx, filter)
	out := make([]web.Bounce, 0, len(bs))
	slugs := map[int64]string{}
	for _, b := range bs {
		// The bounce store does not know lists; take the issue's list.
		slug, ok := slugs[b.IssueID]
		if !ok {
			slug = w.listOf(ctx, b.IssueID)
			slugs[b.IssueID] = slug
		}
		if f.ListSlug != "" && slug != f.ListSlug {
			continue
		}
		out = append(out, web.Bounce{ID: b.ID, Received: b.Received, Email: b.Email, ListSlug: slug, Class: string(b.Class),
			Status: b.Status, Diagnostic: b.Evidence()})
	}
	return out, webErr(err)
}

// listOf is the slug of the issue's list, "" when unknown.
func (w webBounces) listOf(ctx context.Context, issueID int64) string {
	if issueID == 0 {
		return ""
	}
	is, err := w.a.issues.ByID(ctx, issueID)
	if err != nil {
		return ""
	}
	l, err := w.a.subs.ListByID(ctx, is.ListID)
	if err != nil {
		return ""
	}
	return l.Slug
}

// webPlan serves the progress pages (web.Plan).
type webPlan struct{ a *app }

func (w webPlan) Status(ctx context.Context) ([]web.DeadlineStatus, error) {
	ds, err := w.a.progress.Status(ctx)
	out := make([]web.DeadlineStatus, 0, len(ds))
	for _, d := range ds {
		wd := web.DeadlineStatus{ID: d.ID, TitleJA: d.Title, Due: d.Due.String()}
		for _, b := range d.Bureaus {
			wd.Bureaus = append(wd.Bureaus, web.BureauStatus{Bureau: b.Bureau, NameJA: b.Name, Submitted: b.Submitted, At: b.SubmittedAt})
		}
		out = append(out, wd)
	}
	return out, webErr(err)
}

func (w webPlan) MarkSubmitted(ctx context.Context, deadlineID, bureau, login string) error {
	return webErr(w.a.progress.MarkSubmitted(ctx, deadlineID, bureau, "admin", login))
}

func (w webPlan) ExportCSV(ctx context.Context, out io.Writer) error {
	return webErr(w.a.progress.ExportCSV(ctx, out))
}

func (w webPlan) SubmissionByToken(ctx context.Context, tok string) (web.Submission, error) {
	si, err := w.a.progress.SubmissionByToken(ctx, tok)
	return web.Submission{Title: si.Title, Due: si.Due.String(), BureauName: si.BureauName, Projects: si.Projects}, webErr(err)
}

func (w webPlan) SubmitByToken(ctx context.Context, tok, evidence string) error {
	return webErr(w.a.progress.SubmitByToken(ctx, tok, evidence))
}

func (w webPlan) ICS(ctx context.Context, tok string) ([]byte, error) {
	b, err := w.a.progress.ICS(ctx, tok)
	return b, webErr(err)
}
