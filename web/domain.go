package web

import (
	"context"
	"io"
	"time"

	"kawaraban/bounces"
	"kawaraban/issues"
	"kawaraban/mailer"
	"kawaraban/newsletter"
	"kawaraban/progress"
	"kawaraban/scheduler"
	"kawaraban/subscribers"
)

// Domain holds the application layer (package newsletter) and the domain
// values web serves from. Fill connects them to the handler groups'
// interfaces (deps.go); tests give a handler group a fake instead. This is
// the one place where web meets the domain's types.
type Domain struct {
	Subscribers *subscribers.Store
	Issues      *issues.Store
	Mailer      *mailer.Mailer
	Bounces     *bounces.Service
	Progress    *progress.Store
	Scheduler   *scheduler.Scheduler
	Renderer    *newsletter.Renderer
	Sending     *newsletter.Sending
	System      *newsletter.SystemMail
	Attribution *newsletter.Attribution
	// Intake, when set, takes POST /subscribe so that it costs the same for
	// every address (issue 15); nil subscribes in the request.
	Intake *subscribers.Intake
	// Location is the default timezone of a recurring schedule.
	Location *time.Location
	// Statistics gives issue statistics and the click redirect.
	Statistics *newsletter.Statistics
}

// Fill sets opt's interfaces from d; a nil value leaves its group unset.
func (d Domain) Fill(opt *Options) {
	if d.Subscribers != nil {
		opt.Subscribers = webSubscribers{d}
		opt.Imports = webImports{d}
		opt.ListAdmin = d.Subscribers // *subscribers.Store satisfies ListAdmin as it is
	}
	if d.Subscribers != nil && d.Attribution != nil && d.Bounces != nil {
		opt.SubscriberAdmin = webSubscriberAdmin{d}
		opt.SubscriberDetail = webSubscriberDetail{d, newsletter.NewErasure(d.Subscribers, d.Mailer, d.Bounces)}
	}
	if d.Issues != nil && d.Sending != nil && d.Renderer != nil {
		// The issue groups are the store and the layer themselves.
		opt.Issues, opt.Approvals = d.Issues, d.Issues
		opt.Drafts, opt.Sending, opt.Checks = d.Sending, d.Sending, d.Sending
	}
	if d.Renderer != nil {
		opt.Renderer = webRenderer{d}
	}
	if d.Mailer != nil {
		opt.Deliveries = webDeliveries{d}
	}
	if d.Bounces != nil && d.Attribution != nil {
		opt.Bounces = webBounces{d}
	}
	if d.Scheduler != nil {
		opt.Schedules = webSchedules{d}
	}
	if d.Statistics != nil {
		opt.Stats = d.Statistics
	}
	if d.Progress != nil {
		opt.Plan = webPlan{d}
		opt.Reports = d.Progress // *progress.Store satisfies Reports as it is
	}
}

// webSubscribers serves the public pages (Subscribers): the store's own
// methods, with its errors mapped for the pages.
type webSubscribers struct{ d Domain }

func (w webSubscribers) Lists(ctx context.Context) ([]List, error) {
	ls, err := w.d.Subscribers.Lists(ctx)
	return ls, domainErr(err)
}

func (w webSubscribers) Subscribe(ctx context.Context, r SubscribeRequest) error {
	if w.d.Intake != nil {
		return domainErr(w.d.Intake.Submit(ctx, r))
	}
	return domainErr(w.d.Subscribers.Subscribe(ctx, r))
}

// CheckConfirm checks a confirmation link without following it (ConfirmChecker).
func (w webSubscribers) CheckConfirm(ctx context.Context, tok string) error {
	return domainErr(w.d.Subscribers.CheckConfirm(ctx, tok))
}

func (w webSubscribers) Confirm(ctx context.Context, tok string, ev Evidence) (ConfirmResult, error) {
	res, err := w.d.Subscribers.Confirm(ctx, tok, ev)
	return res, domainErr(err)
}

func (w webSubscribers) UnsubscribeInfo(ctx context.Context, tok string) (UnsubscribeInfo, error) {
	in, err := w.d.Subscribers.UnsubscribeInfo(ctx, tok)
	return in, domainErr(err)
}

func (w webSubscribers) UnsubscribeByToken(ctx context.Context, tok, source string, ev Evidence) error {
	_, err := w.d.Subscribers.UnsubscribeByToken(ctx, tok, source, ev)
	return domainErr(err)
}

func (w webSubscribers) Preferences(ctx context.Context, tok string) (Preferences, error) {
	p, err := w.d.Subscribers.Preferences(ctx, tok)
	return p, domainErr(err)
}

func (w webSubscribers) SavePreferences(ctx context.Context, tok string, slugs []string, ev Evidence) error {
	return domainErr(w.d.Subscribers.SavePreferences(ctx, tok, slugs, ev))
}

// webSubscriberAdmin serves the admin's subscriber pages (SubscriberAdmin).
type webSubscriberAdmin struct{ d Domain }

func (w webSubscriberAdmin) Search(ctx context.Context, q subscribers.SearchQuery) ([]subscribers.SubscriberRow, error) {
	q.SkipTotal = true // no page shows a total
	rows, _, err := w.d.Subscribers.Search(ctx, q)
	return rows, domainErr(err)
}

func (w webSubscriberAdmin) SubscriberLists(ctx context.Context, subscriberID int64) ([]string, error) {
	slugs, err := w.d.Subscribers.SubscriberLists(ctx, subscriberID)
	return slugs, domainErr(err)
}

func (w webSubscriberAdmin) Stats(ctx context.Context, listSlug string) (ListStats, error) {
	l, err := w.d.Subscribers.ListBySlug(ctx, listSlug)
	if err != nil {
		return ListStats{}, domainErr(err)
	}
	st, err := w.d.Attribution.ListStats(ctx, l.ID)
	return st, domainErr(err)
}

// StatusCounts counts a list's subscriptions by status from the counts
// the store maintains (SubscriberCounter).
func (w webSubscriberAdmin) StatusCounts(ctx context.Context, listSlug string) (subscribers.ListStats, error) {
	l, err := w.d.Subscribers.ListBySlug(ctx, listSlug)
	if err != nil {
		return subscribers.ListStats{}, domainErr(err)
	}
	st, err := w.d.Subscribers.Stats(ctx, l.ID)
	return st, domainErr(err)
}

func (w webSubscriberAdmin) Growth(ctx context.Context, listSlug string, days int) ([]subscribers.DayCount, error) {
	l, err := w.d.Subscribers.ListBySlug(ctx, listSlug)
	if err != nil {
		return nil, domainErr(err)
	}
	dc, err := w.d.Subscribers.Growth(ctx, l.ID, days)
	return dc, domainErr(err)
}

func (w webSubscriberAdmin) Import(ctx context.Context, r io.Reader, opt ImportOptions) (ImportReport, error) {
	rep, err := w.d.Subscribers.Import(ctx, r, opt)
	return rep, domainErr(err)
}

func (w webSubscriberAdmin) AddMember(ctx context.Context, listSlug, email, name, source string, ev Evidence) error {
	return domainErr(w.d.Subscribers.AddMember(ctx, listSlug, email, name, source, ev))
}

func (w webSubscriberAdmin) ExportSubscribers(ctx context.Context, out io.Writer, listSlug string) error {
	return domainErr(w.d.Subscribers.ExportSubscribers(ctx, out, listSlug, true))
}

// webRenderer renders previews and the archive (Renderer).
type webRenderer struct{ d Domain }

func (w webRenderer) Preview(ctx context.Context, listID int64, subject, markdown string) (Parts, error) {
	msg, err := w.d.Renderer.Preview(ctx, listID, subject, markdown, "")
	if err != nil {
		return Parts{}, domainErr(err)
	}
	return Parts{Subject: msg.Subject, Text: msg.Text, HTML: msg.HTML}, nil
}

func (w webRenderer) PreviewFor(ctx context.Context, listID int64, subject, markdown string, subscriberID int64) (Parts, error) {
	msg, err := w.d.Renderer.PreviewSubscriber(ctx, listID, subject, markdown, subscriberID)
	if err != nil {
		return Parts{}, domainErr(err)
	}
	return Parts{Subject: msg.Subject, Text: msg.Text, HTML: msg.HTML}, nil
}

func (w webRenderer) Public(ctx context.Context, is issues.Issue) (Parts, error) {
	p, err := w.d.Renderer.Public(ctx, is)
	return p, domainErr(err)
}

// webDeliveries reports sending progress (Deliveries).
type webDeliveries struct{ d Domain }

func (w webDeliveries) Progress(ctx context.Context, issueID int64) (Progress, error) {
	return w.d.Mailer.Progress(ctx, issueID)
}

// webBounces lists bounces (Bounces).
type webBounces struct{ d Domain }

func (w webBounces) List(ctx context.Context, f bounces.Filter) ([]Bounce, error) {
	bs, err := w.d.Bounces.List(ctx, f)
	return bs, domainErr(err)
}

// slugs returns slug, remembering each list's answer, for pages that name
// the list of every row: one lookup per list, not one per row.
func (w webBounces) slugs(ctx context.Context) func(listID int64) string {
	seen := map[int64]string{}
	return func(listID int64) string {
		s, ok := seen[listID]
		if !ok {
			s = w.slug(ctx, listID)
			seen[listID] = s
		}
		return s
	}
}

// slug is the list's slug, "" when unknown.
func (w webBounces) slug(ctx context.Context, listID int64) string {
	if listID == 0 {
		return ""
	}
	l, err := w.d.Subscribers.ListByID(ctx, listID)
	if err != nil {
		return ""
	}
	return l.Slug
}

// Verify applies the policy to an unverified bounce (BounceVerifier).
func (w webBounces) Verify(ctx context.Context, id int64, login string) error {
	return domainErr(w.d.Bounces.Verify(ctx, id, login))
}

func (w webBounces) MarkNotABounce(ctx context.Context, id int64, login string) error {
	return domainErr(w.d.Bounces.MarkNotABounce(ctx, id, login))
}

func (w webBounces) ListOf(ctx context.Context, id int64) (string, error) {
	b, err := w.d.Bounces.ByID(ctx, id)
	if err != nil {
		return "", domainErr(err)
	}
	return w.slug(ctx, b.ListID), nil
}

func (w webBounces) Alerts(ctx context.Context) ([]bounces.Alert, error) {
	as, err := w.d.Bounces.Alerts(ctx)
	return as, domainErr(err)
}

// webPlan serves the progress pages (Plan).
type webPlan struct{ d Domain }

func (w webPlan) Status(ctx context.Context) ([]progress.DeadlineStatus, error) {
	ds, err := w.d.Progress.Status(ctx)
	return ds, domainErr(err)
}

func (w webPlan) NextReminders(ctx context.Context, now time.Time) ([]progress.NextReminder, error) {
	ns, err := w.d.Progress.NextReminders(ctx, now)
	return ns, domainErr(err)
}

func (w webPlan) MarkSubmitted(ctx context.Context, deadlineID, bureau, login string) error {
	return domainErr(w.d.Progress.MarkSubmitted(ctx, deadlineID, bureau, "admin", login))
}

func (w webPlan) ExportCSV(ctx context.Context, out io.Writer) error {
	return domainErr(w.d.Progress.ExportCSV(ctx, out))
}

func (w webPlan) ICS(ctx context.Context, tok string) ([]byte, error) {
	b, err := w.d.Progress.ICS(ctx, tok)
	return b, domainErr(err)
}

// webSchedules lists and pauses schedules (Schedules).
type webSchedules struct{ d Domain }

func (w webSchedules) List(ctx context.Context) ([]scheduler.Status, error) {
	ss, err := w.d.Scheduler.List(ctx)
	return ss, domainErr(err)
}

func (w webSchedules) Pause(ctx context.Context, id int64) error {
	return domainErr(w.d.Scheduler.Pause(ctx, id))
}

func (w webSchedules) Resume(ctx context.Context, id int64) error {
	return domainErr(w.d.Scheduler.Resume(ctx, id))
}

func (w webSchedules) Remove(ctx context.Context, id int64) error {
	return domainErr(w.d.Scheduler.Remove(ctx, id))
}

func (w webSchedules) AddRecurring(ctx context.Context, listSlug, spec, tz string) (scheduler.Status, error) {
	st, err := newsletter.AddRecurring(ctx, w.d.Scheduler, listSlug, spec, tz, w.d.Location)
	return st, domainErr(err)
}

// webImports lists CSV imports with their progress for the admin UI.
type webImports struct{ d Domain }

func (w webImports) Imports(ctx context.Context, listSlug string, limit int) ([]ImportStatus, error) {
	rs, err := w.d.Subscribers.Imports(ctx, listSlug, limit)
	out := make([]ImportStatus, 0, len(rs))
	for _, r := range rs {
		out = append(out, ImportStatus{ID: r.ID, FileName: r.FileName, Status: r.Status, Rows: r.Rows,
			Valid: r.Valid, Written: r.Written, Added: r.Added, Rejected: r.Rejected, Percent: r.Percent(),
			Error: r.Error, Started: r.Started})
	}
	return out, domainErr(err)
}
