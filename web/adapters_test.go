package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"kawaraban/bounces"
	"kawaraban/bounces/classify"
	"kawaraban/issues"
	"kawaraban/mailer"
	"kawaraban/progress"
	"kawaraban/subscribers"
	"kawaraban/templates"
)

// This file adapts the real domain packages to web's interfaces for the
// tests that run web over real stores (real_test.go, bench_test.go).
// Production wiring lives in cmd/kawaraban/webadapt.go, which also hooks
// the scheduler and the outbox; keep the two in step when an interface
// changes.

// Domain holds the real domain values. Fill sets the matching Options
// fields to adapters over them. A nil field leaves its Options fields as
// they are.
type Domain struct {
	Subscribers *subscribers.Store
	Issues      *issues.Store
	Mailer      *mailer.Mailer
	Bounces     *bounces.Service
	Templates   *templates.Set
	Progress    *progress.Store
	// BaseURL makes the archive and sample links in previews.
	BaseURL string
}

// Fill sets opt's domain interfaces from d.
func (d Domain) Fill(opt *Options) {
	if d.Subscribers != nil {
		a := subsAdapter{d.Subscribers, d}
		opt.Subscribers, opt.SubscriberAdmin = a, a
	}
	if d.Issues != nil && d.Subscribers != nil {
		opt.Issues = issuesAdapter{d}
	}
	if d.Templates != nil && d.Subscribers != nil {
		opt.Renderer = rendererAdapter{d}
	}
	if d.Mailer != nil {
		opt.Deliveries = deliveriesAdapter{d.Mailer}
	}
	if d.Bounces != nil {
		opt.Bounces = bouncesAdapter{d}
	}
	if d.Progress != nil {
		opt.Plan = planAdapter{d.Progress}
		opt.Reports = d.Progress // *progress.Store satisfies Reports as it is
	}
}

func fromList(l subscribers.List) List {
	kind := l.Kind
	if kind == "" {
		kind = subscribers.KindPublic
	}
	return List{ID: l.ID, Slug: l.Slug, NameJA: l.NameJA, NameEN: l.NameEN, Kind: kind, RequireApproval: l.RequireApproval}
}

func fromEvidence(ev Evidence) subscribers.Evidence {
	return subscribers.Evidence{IP: ev.IP, UserAgent: ev.UserAgent, MessageID: ev.MessageID, Actor: ev.Actor}
}

// subsErr turns a bad address into web's InputError; other errors are
// mapped by statusOf.
func subsErr(err error) error {
	var ae *subscribers.AddressError
	if errors.As(err, &ae) {
		return &InputError{Field: "email", Message: ae.Message, MessageJA: ae.MessageJA}
	}
	return err
}

type subsAdapter struct {
	s *subscribers.Store
	d Domain // optional parts: bounces in a history, rates from issues and mailer
}

func (a subsAdapter) Lists(ctx context.Context) ([]List, error) {
	ls, err := a.s.Lists(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]List, 0, len(ls))
	for _, l := range ls {
		out = append(out, fromList(l))
	}
	return out, nil
}

func (a subsAdapter) Subscribe(ctx context.Context, req SubscribeRequest) error {
	return subsErr(a.s.Subscribe(ctx, subscribers.SubscribeRequest{Email: req.Email, Name: req.Name, Lists: req.Lists,
		Source: req.Source, Evidence: fromEvidence(req.Evidence), Lang: req.Lang}))
}

func (a subsAdapter) Confirm(ctx context.Context, tok string, ev Evidence) (ConfirmResult, error) {
	r, err := a.s.Confirm(ctx, tok, fromEvidence(ev))
	if err != nil {
		return ConfirmResult{}, err
	}
	res := ConfirmResult{SubscriberID: r.SubscriberID}
	for _, l := range r.Lists {
		res.Lists = append(res.Lists, fromList(l))
	}
	return res, nil
}

func (a subsAdapter) UnsubscribeInfo(ctx context.Context, tok string) (UnsubscribeInfo, error) {
	i, err := a.s.UnsubscribeInfo(ctx, tok)
	if err != nil {
		return UnsubscribeInfo{}, err
	}
	return UnsubscribeInfo{List: fromList(i.List), MaskedEmail: i.MaskedEmail, Unsubscribed: !i.Subscribed}, nil
}

func (a subsAdapter) UnsubscribeByToken(ctx context.Context, tok, source string, ev Evidence) error {
	_, err := a.s.UnsubscribeByToken(ctx, tok, source, fromEvidence(ev))
	return err
}

func (a subsAdapter) Preferences(ctx context.Context, tok string) (Preferences, error) {
	p, err := a.s.Preferences(ctx, tok)
	if err != nil {
		return Preferences{}, err
	}
	out := Preferences{MaskedEmail: p.MaskedEmail}
	for _, l := range p.Lists {
		out.Lists = append(out.Lists, PreferenceList{List: fromList(l.List), Subscribed: l.Subscribed})
	}
	return out, nil
}

func (a subsAdapter) SavePreferences(ctx context.Context, tok string, slugs []string, ev Evidence) error {
	return a.s.SavePreferences(ctx, tok, slugs, fromEvidence(ev))
}

func (a subsAdapter) Search(ctx context.Context, slug, q string, limit, offset int) ([]Subscriber, error) {
	// subscribers pages by number; fetch the page that holds offset.
	page, per := offset/limit+1, limit
	skip := 0
	if offset%limit != 0 {
		page, per, skip = 1, min(offset+limit, 500), offset
	}
	rows, _, err := a.s.Search(ctx, subscribers.SearchQuery{ListSlug: slug, Text: q, Page: page, PerPage: per})
	if err != nil {
		return nil, err
	}
	if skip >= len(rows) {
		return nil, nil
	}
	rows = rows[skip:]
	out := make([]Subscriber, 0, len(rows))
	for _, r := range rows {
		out = append(out, Subscriber{ID: r.SubscriberID, Email: r.Email, Name: r.Name, Status: r.Status, Created: r.Created})
	}
	return out, nil
}

func (a subsAdapter) SubscriberLists(ctx context.Context, id int64) ([]string, error) {
	return a.s.SubscriberLists(ctx, id)
}

func (a subsAdapter) History(ctx context.Context, id int64) ([]HistoryEvent, error) {
	evs, err := a.s.History(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]HistoryEvent, 0, len(evs))
	for _, e := range evs {
		detail := e.Detail
		if ev := e.Evidence; ev.IP != "" || ev.MessageID != "" || ev.Actor != "" {
			detail = strings.TrimSpace(strings.Join([]string{detail, ev.IP, ev.MessageID, ev.Actor}, " "))
		}
		out = append(out, HistoryEvent{At: e.At, Kind: e.Event, List: e.ListSlug, Source: e.Source, Detail: detail})
	}
	if a.d.Bounces != nil {
		bs, err := a.d.Bounces.List(ctx, bounces.Filter{SubscriberID: id, PerPage: 200})
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			out = append(out, HistoryEvent{At: b.Received, Kind: "bounce " + string(b.Class), Source: b.AttributedBy,
				Detail: strings.TrimSpace(b.Status + " " + b.Diagnostic)})
		}
	}
	return out, nil
}

func (a subsAdapter) listID(ctx context.Context, slug string) (int64, error) {
	l, err := a.s.ListBySlug(ctx, slug)
	return l.ID, err
}

func (a subsAdapter) Stats(ctx context.Context, slug string) (ListStats, error) {
	id, err := a.listID(ctx, slug)
	if err != nil {
		return ListStats{}, err
	}
	st, err := a.s.Stats(ctx, id)
	if err != nil {
		return ListStats{}, err
	}
	out := ListStats{Confirmed: st.Confirmed}
	out.BounceRate, out.ComplaintRate, err = a.rates(ctx, id)
	return out, err
}

// rates are the bounce and complaint rates over the list's last ten
// issues: bounced (or complained) deliveries per delivery attempted.
func (a subsAdapter) rates(ctx context.Context, listID int64) (bounce, complaint float64, err error) {
	if a.d.Issues == nil || a.d.Mailer == nil {
		return 0, 0, nil
	}
	iss, err := a.d.Issues.ListByList(ctx, listID, issues.Page{Limit: 10})
	if err != nil {
		return 0, 0, err
	}
	var total, bounced, complaints int
	for _, is := range iss {
		if is.Recipients == nil {
			continue
		}
		p, err := a.d.Mailer.Progress(ctx, is.ID)
		if err != nil {
			return 0, 0, err
		}
		total += p.Sent + p.Bounced + p.Failed
		bounced += p.Bounced
		if a.d.Bounces != nil {
			c, err := a.d.Bounces.CountsByIssue(ctx, is.ID)
			if err != nil {
				return 0, 0, err
			}
			complaints += c[classify.Complaint]
		}
	}
	if total == 0 {
		return 0, 0, nil
	}
	return float64(bounced) / float64(total), float64(complaints) / float64(total), nil
}

func (a subsAdapter) Growth(ctx context.Context, slug string, days int) ([]GrowthPoint, error) {
	id, err := a.listID(ctx, slug)
	if err != nil {
		return nil, err
	}
	dc, err := a.s.Growth(ctx, id, days)
	out := make([]GrowthPoint, 0, len(dc))
	for _, d := range dc {
		out = append(out, GrowthPoint{Day: d.Day, Confirmed: d.Subscribed})
	}
	return out, err
}

func (a subsAdapter) Import(ctx context.Context, r io.Reader, opt ImportOptions) (ImportReport, error) {
	rep, err := a.s.Import(ctx, r, subscribers.ImportOptions{ListSlug: opt.ListSlug, ConsentSource: opt.ConsentSource,
		DryRun: opt.DryRun, Actor: opt.Actor})
	if err != nil {
		return ImportReport{}, err
	}
	out := ImportReport{Added: rep.Added, Existing: rep.Updated + rep.Unchanged}
	for _, rj := range rep.Rejected {
		out.Rejected = append(out.Rejected, ImportReject{Line: rj.Line, Reason: rj.Reason})
	}
	return out, nil
}

func (a subsAdapter) AddMember(ctx context.Context, slug, email, name, source string, ev Evidence) error {
	return subsErr(a.s.AddMember(ctx, slug, email, name, source, fromEvidence(ev)))
}

func (a subsAdapter) ExportSubscribers(ctx context.Context, w io.Writer, slug string) error {
	return a.s.ExportSubscribers(ctx, w, slug, true)
}

type issuesAdapter struct{ d Domain }

func actorOf(login string) issues.Actor { return issues.Actor{Login: login, Source: "web"} }

func (a issuesAdapter) fromIssue(ctx context.Context, is issues.Issue) Issue {
	out := Issue{ID: is.ID, ListID: is.ListID, Subject: is.Subject, BodyMarkdown: is.BodyMarkdown, Status: is.Status,
		Author: is.Author, Created: is.CreatedAt, NeedsApproval: is.RequireApproval, Approved: is.ApprovedBy != ""}
	if is.SendAt != nil {
		out.SendAt = *is.SendAt
	}
	if is.SentAt != nil {
		out.SentAt = *is.SentAt
	}
	if is.Recipients != nil {
		out.Counts.Queued = *is.Recipients
	}
	return out
}

func toDraft(d Draft) issues.Draft {
	out := issues.Draft{ListID: d.ListID, Subject: d.Subject, BodyMarkdown: d.BodyMarkdown, Author: d.Author,
		Source: "web", RequireApproval: d.RequireApproval}
	if !d.SendAt.IsZero() {
		at := d.SendAt
		out.SendAt = &at
	}
	return out
}

func (a issuesAdapter) one(ctx context.Context, is issues.Issue, err error) (Issue, error) {
	if err != nil {
		return Issue{}, err
	}
	return a.fromIssue(ctx, is), nil
}

func (a issuesAdapter) many(ctx context.Context, iss []issues.Issue, err error) ([]Issue, error) {
	if err != nil {
		return nil, err
	}
	out := make([]Issue, 0, len(iss))
	for _, is := range iss {
		out = append(out, a.fromIssue(ctx, is))
	}
	return out, nil
}

func (a issuesAdapter) Create(ctx context.Context, d Draft) (Issue, error) {
	is, err := a.d.Issues.Create(ctx, toDraft(d))
	return a.one(ctx, is, err)
}

func (a issuesAdapter) Update(ctx context.Context, id int64, d Draft) (Issue, error) {
	is, err := a.d.Issues.Update(ctx, id, toDraft(d), actorOf(d.Author))
	return a.one(ctx, is, err)
}

func (a issuesAdapter) ByID(ctx context.Context, id int64) (Issue, error) {
	is, err := a.d.Issues.ByID(ctx, id)
	return a.one(ctx, is, err)
}

func (a issuesAdapter) ListByList(ctx context.Context, listID int64, limit, offset int) ([]Issue, error) {
	iss, err := a.d.Issues.ListByList(ctx, listID, issues.Page{Limit: limit, Offset: offset})
	return a.many(ctx, iss, err)
}

func (a issuesAdapter) Archive(ctx context.Context, listID int64, limit, offset int) ([]Issue, error) {
	iss, err := a.d.Issues.Archive(ctx, listID, limit, offset)
	return a.many(ctx, iss, err)
}

func (a issuesAdapter) Schedule(ctx context.Context, id int64, at time.Time, actor string) error {
	_, err := a.d.Issues.Schedule(ctx, id, at, actorOf(actor))
	return err
}

func (a issuesAdapter) SendNow(ctx context.Context, id int64, actor string) error {
	_, err := a.d.Issues.SendNow(ctx, id, actorOf(actor))
	return err
}

// Pause, Resume and Cancel change the issue's status and tell the mailer,
// so that workers stop claiming (or claim again) its deliveries.
func (a issuesAdapter) Pause(ctx context.Context, id int64, actor string) error {
	if _, err := a.d.Issues.Pause(ctx, id, actorOf(actor)); err != nil {
		return err
	}
	if a.d.Mailer != nil {
		return a.d.Mailer.Pause(ctx, id)
	}
	return nil
}

func (a issuesAdapter) Resume(ctx context.Context, id int64, actor string) error {
	if _, err := a.d.Issues.Resume(ctx, id, actorOf(actor)); err != nil {
		return err
	}
	if a.d.Mailer != nil {
		return a.d.Mailer.Resume(ctx, id)
	}
	return nil
}

func (a issuesAdapter) RetryFailed(ctx context.Context, id int64, actor string) (int, error) {
	if a.d.Mailer == nil {
		return 0, nil
	}
	return a.d.Mailer.RetryFailed(ctx, id)
}

func (a issuesAdapter) Cancel(ctx context.Context, id int64, actor string) error {
	if _, err := a.d.Issues.Cancel(ctx, id, actorOf(actor)); err != nil {
		return err
	}
	if a.d.Mailer != nil {
		return a.d.Mailer.Cancel(ctx, id)
	}
	return nil
}

func (a issuesAdapter) Approve(ctx context.Context, id int64, actor string) error {
	_, err := a.d.Issues.Approve(ctx, id, actorOf(actor), "")
	return err
}

func (a issuesAdapter) Reject(ctx context.Context, id int64, actor, comment string) error {
	_, err := a.d.Issues.Reject(ctx, id, actorOf(actor), comment)
	return err
}

// TestSend renders the issue for a sample recipient and sends it to the
// editor's own address at once, with 【テスト】 before the subject.
func (a issuesAdapter) TestSend(ctx context.Context, id int64, to string) error {
	if a.d.Mailer == nil || a.d.Templates == nil {
		return errUnavailable
	}
	is, err := a.d.Issues.ByID(ctx, id)
	if err != nil {
		return err
	}
	l, err := a.d.Subscribers.ListByID(ctx, is.ListID)
	if err != nil {
		return err
	}
	p, err := rendererAdapter(a).render(l, is.ID, is.Subject, is.BodyMarkdown, to)
	if err != nil {
		return err
	}
	_, err = a.d.Mailer.Send(ctx, &mailer.Message{FromName: l.FromName, FromAddress: l.FromAddress, To: to,
		Subject: "【テスト】" + p.Subject, Text: p.Text, HTML: p.HTML, Charset: l.Encoding})
	if err != nil {
		return fmt.Errorf("sending test of issue %d: %w", id, err)
	}
	return nil
}

func (a issuesAdapter) Events(ctx context.Context, id int64) ([]IssueEvent, error) {
	evs, err := a.d.Issues.Events(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]IssueEvent, 0, len(evs))
	for _, e := range evs {
		out = append(out, IssueEvent{At: e.At, Actor: e.Actor, Action: string(e.Action), From: e.From, To: e.To, Comment: e.Comment})
	}
	return out, nil
}

type rendererAdapter struct{ d Domain }

func listInfo(l subscribers.List) templates.ListInfo {
	return templates.ListInfo{Slug: l.Slug, NameJA: l.NameJA, NameEN: l.NameEN, FromName: l.FromName,
		FromAddress: l.FromAddress, PostalAddress: l.PostalAddress, Contact: l.Contact,
		NameFallback: l.NameFallback, Encoding: l.Encoding}
}

func (a rendererAdapter) render(l subscribers.List, issueID int64, subject, md, email string) (Parts, error) {
	return a.renderFor(l, issueID, subject, md, templates.Recipient{Name: "京都 花子", Email: email})
}

func (a rendererAdapter) renderFor(l subscribers.List, issueID int64, subject, md string, rc templates.Recipient) (Parts, error) {
	base := strings.TrimSuffix(a.d.BaseURL, "/")
	if base == "" {
		base = "http://localhost"
	}
	p, err := a.d.Templates.Prepare(templates.IssueInput{List: listInfo(l), IssueID: issueID, Subject: subject,
		Markdown: md, ArchiveURL: base + "/archive/" + l.Slug})
	if err != nil {
		return Parts{}, err
	}
	rc.UnsubscribeURL, rc.PreferencesURL = base+"/unsubscribe/sample", base+"/preferences/sample"
	parts, err := p.Render(rc)
	return Parts{Subject: parts.Subject, Text: parts.Text, HTML: parts.HTML}, err
}

func (a rendererAdapter) Preview(ctx context.Context, listID int64, subject, md string) (Parts, error) {
	l, err := a.d.Subscribers.ListByID(ctx, listID)
	if err != nil {
		return Parts{}, err
	}
	return a.render(l, 0, subject, md, "hanako@example.jp")
}

func (a rendererAdapter) PreviewFor(ctx context.Context, listID int64, subject, md string, subscriberID int64) (Parts, error) {
	l, err := a.d.Subscribers.ListByID(ctx, listID)
	if err != nil {
		return Parts{}, err
	}
	r, err := a.d.Subscribers.RecipientOf(ctx, listID, subscriberID)
	if err != nil {
		return Parts{}, err
	}
	return a.renderFor(l, 0, subject, md, templates.Recipient{Name: r.Name, Email: r.Email, Fields: r.Attributes})
}

func (a rendererAdapter) MarkdownHTML(md string) (string, error) { return templates.MarkdownHTML(md) }

type deliveriesAdapter struct{ m *mailer.Mailer }

func (a deliveriesAdapter) Progress(ctx context.Context, id int64) (Progress, error) {
	p, err := a.m.Progress(ctx, id)
	return Progress{Queued: p.Queued, Sending: p.Sending, Sent: p.Sent, Failed: p.Failed, Bounced: p.Bounced,
		Skipped: p.Skipped, PerSecond: p.PerSecond, ETA: p.ETA, LastError: p.LastError, LastErrorAt: p.LastErrorAt}, err
}

type bouncesAdapter struct{ d Domain }

// List filters by class in bounces and by list here, through each
// bounce's issue.
func (a bouncesAdapter) List(ctx context.Context, f BounceFilter) ([]Bounce, error) {
	per := f.Limit
	if f.ListSlug != "" {
		per = 500 // filter by list below, then page
	}
	bs, err := a.d.Bounces.List(ctx, bounces.Filter{Class: classify.Class(f.Class), Page: 1 + f.Offset/max(per, 1), PerPage: per})
	if err != nil {
		return nil, err
	}
	slugOf := map[int64]string{}
	var out []Bounce
	for _, b := range bs {
		slug, ok := slugOf[b.IssueID]
		if !ok && b.IssueID != 0 && a.d.Issues != nil && a.d.Subscribers != nil {
			if is, err := a.d.Issues.ByID(ctx, b.IssueID); err == nil {
				if l, err := a.d.Subscribers.ListByID(ctx, is.ListID); err == nil {
					slug = l.Slug
				}
			}
			slugOf[b.IssueID] = slug
		}
		if f.ListSlug != "" && slug != f.ListSlug {
			continue
		}
		out = append(out, Bounce{ID: b.ID, Received: b.Received, Email: b.Email, ListSlug: slug, Class: string(b.Class),
			Status: b.Status, Diagnostic: b.Diagnostic})
	}
	if f.ListSlug != "" {
		if f.Offset >= len(out) {
			return nil, nil
		}
		out = out[f.Offset:min(len(out), f.Offset+f.Limit)]
	}
	return out, nil
}

type planAdapter struct{ p *progress.Store }

func (a planAdapter) Status(ctx context.Context) ([]DeadlineStatus, error) {
	st, err := a.p.Status(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]DeadlineStatus, 0, len(st))
	for _, d := range st {
		ds := DeadlineStatus{ID: d.ID, TitleJA: d.Title, Due: d.Due.String()}
		for _, b := range d.Bureaus {
			ds.Bureaus = append(ds.Bureaus, BureauStatus{Bureau: b.Bureau, NameJA: b.Name, Submitted: b.Submitted, At: b.SubmittedAt})
		}
		out = append(out, ds)
	}
	return out, nil
}

func (a planAdapter) MarkSubmitted(ctx context.Context, deadlineID, bureau, actor string) error {
	return a.p.MarkSubmitted(ctx, deadlineID, bureau, "admin", actor)
}

func (a planAdapter) ExportCSV(ctx context.Context, w io.Writer) error { return a.p.ExportCSV(ctx, w) }

func (a planAdapter) SubmissionByToken(ctx context.Context, tok string) (Submission, error) {
	si, err := a.p.SubmissionByToken(ctx, tok)
	if err != nil {
		return Submission{}, err
	}
	return Submission{Title: si.Title, Due: si.Due.String(), BureauName: si.BureauName, Projects: si.Projects}, nil
}

func (a planAdapter) SubmitByToken(ctx context.Context, tok, evidence string) error {
	return a.p.SubmitByToken(ctx, tok, evidence)
}

func (a planAdapter) ICS(ctx context.Context, tok string) ([]byte, error) { return a.p.ICS(ctx, tok) }
