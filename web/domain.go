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
// interfaces (deps.go), most of which the values satisfy as they are;
// tests give a handler group a fake instead. This is the one place where
// web meets the domain's concrete values (it uses their types
// throughout).
type Domain struct {
	Subscribers *subscribers.Store
	Issues      *issues.Store
	Mailer      *mailer.Mailer
	Bounces     *bounces.Service
	Progress    *progress.Store
	Scheduler   *scheduler.Scheduler
	Renderer    *newsletter.Renderer
	Sending     *newsletter.Sending
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
		opt.Subscribers = webSubscribers{d.Subscribers, d.Intake}
		opt.Imports = d.Subscribers   // *subscribers.Store satisfies Imports as it is
		opt.ListAdmin = d.Subscribers // *subscribers.Store satisfies ListAdmin as it is
	}
	if d.Subscribers != nil && d.Attribution != nil && d.Bounces != nil {
		erasure := newsletter.NewErasure(d.Subscribers, d.Mailer, d.Bounces)
		opt.SubscriberAdmin = webSubscriberAdmin{d.Subscribers, d.Attribution, erasure}
		opt.SubscriberDetail = webSubscriberDetail{d.Subscribers, d, erasure}
	}
	// The issue groups are the store and the layer themselves, each set
	// from the value that satisfies it.
	if d.Issues != nil {
		opt.Issues, opt.Approvals = d.Issues, d.Issues
	}
	if d.Sending != nil {
		opt.Drafts, opt.Sending, opt.Checks = d.Sending, d.Sending, d.Sending
	}
	if d.Renderer != nil {
		opt.Renderer = d.Renderer // *newsletter.Renderer satisfies Renderer as it is
	}
	if d.Mailer != nil {
		opt.Deliveries = d.Mailer // *mailer.Mailer satisfies Deliveries as it is
	}
	if d.Bounces != nil {
		opt.Bounces = d.Bounces // *bounces.Service satisfies Bounces (and BounceVerifier) as it is
	}
	if d.Scheduler != nil {
		opt.Schedules = webSchedules{d.Scheduler, d.Location}
	}
	if d.Statistics != nil {
		opt.Stats = d.Statistics
	}
	if d.Progress != nil {
		opt.Plan = d.Progress    // *progress.Store satisfies Plan
		opt.Reports = d.Progress // and Reports as it is
	}
}

// webSubscribers is the store serving the public pages (Subscribers,
// ConfirmChecker), with POST /subscribe through the intake when there is
// one.
type webSubscribers struct {
	*subscribers.Store
	intake *subscribers.Intake
}

// Subscribe goes through the intake when there is one.
func (w webSubscribers) Subscribe(ctx context.Context, r SubscribeRequest) error {
	if w.intake != nil {
		return w.intake.Submit(ctx, r)
	}
	return w.Store.Subscribe(ctx, r)
}

// UnsubscribeByToken drops what the store says was unsubscribed: the
// page says the same either way.
func (w webSubscribers) UnsubscribeByToken(ctx context.Context, tok, source string, ev Evidence) error {
	_, err := w.Store.UnsubscribeByToken(ctx, tok, source, ev)
	return err
}

// webSubscriberAdmin is the store serving the admin's subscriber pages
// (SubscriberAdmin, SubscriberBrowser, SubscriberCounter,
// SubscriberBulkEraser); what differs from the store's own methods is
// here and in domain_sublist.go.
type webSubscriberAdmin struct {
	*subscribers.Store
	attribution *newsletter.Attribution
	erasure     *newsletter.Erasure
}

func (w webSubscriberAdmin) Search(ctx context.Context, q subscribers.SearchQuery) ([]subscribers.SubscriberRow, error) {
	q.SkipTotal = true // no page shows a total
	rows, _, err := w.Store.Search(ctx, q)
	return rows, err
}

// Stats are the dashboard's figures (newsletter.Attribution's), not the
// store's counts by status (StatusCounts).
func (w webSubscriberAdmin) Stats(ctx context.Context, listID int64) (ListStats, error) {
	return w.attribution.ListStats(ctx, listID)
}

// StatusCounts counts a list's subscriptions by status from the counts
// the store maintains (SubscriberCounter).
func (w webSubscriberAdmin) StatusCounts(ctx context.Context, listID int64) (subscribers.ListStats, error) {
	return w.Store.Stats(ctx, listID)
}

func (w webSubscriberAdmin) ExportSubscribers(ctx context.Context, out io.Writer, listSlug string) error {
	return w.Store.ExportSubscribers(ctx, out, listSlug, true)
}

// webSchedules is the scheduler (Schedules) with the issue schedules'
// recurring kind, which newsletter adds in the default timezone.
type webSchedules struct {
	*scheduler.Scheduler
	loc *time.Location
}

func (w webSchedules) AddRecurring(ctx context.Context, listSlug, spec, tz string) (scheduler.Status, error) {
	return newsletter.AddRecurring(ctx, w.Scheduler, listSlug, spec, tz, w.loc)
}
