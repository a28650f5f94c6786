package newsletter

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"kawaraban/issues"
	"kawaraban/mailer"
	"kawaraban/subscribers"
	"kawaraban/templates"
	"kawaraban/token"
)

// OptOutWindow is how long after a reader's delivery of an issue an
// opt-out counts for that issue.
const OptOutWindow = 7 * 24 * time.Hour

// IssueStats are an issue's privacy-first figures: what the outbox and the
// consent log already hold, and (for lists that count clicks) one sum per
// link. Nothing here needs a tracking pixel or names a reader.
type IssueStats struct {
	// Delivered counts the deliveries the relay accepted and no bounce
	// has taken back; Bounced those a bounce took back or the relay
	// refused for good; Failed those given up after retries.
	Delivered, Bounced, Failed int
	// Unsubscribed counts the opt-outs from the issue's list that came
	// within OptOutWindow of the reader's delivery of this issue, when it
	// was the last issue of the list the reader got before opting out.
	// Each opt-out counts for one issue at most.
	Unsubscribed int
	// Final reports that Unsubscribed can no longer change: the run is
	// done and OptOutWindow has passed since it finished.
	Final bool
	// CountsClicks says whether the issue's list counts clicks now;
	// Links holds the counts of an issue that has any.
	CountsClicks bool
	Links        []LinkClicks
}

// LinkClicks is how often one link of an issue was followed.
type LinkClicks struct {
	Index  int
	URL    string
	Clicks int
}

// ErrNoSuchLink is a click redirect whose link is not one of its issue's.
var ErrNoSuchLink = errors.New("no such link in the issue")

// StatisticsOptions configures Statistics. BaseURL and Signer are needed
// for click redirects.
type StatisticsOptions struct {
	BaseURL string
	Signer  *token.Signer
	Now     func() time.Time // nil = time.Now
	Logger  *slog.Logger
}

// Statistics computes issue statistics and serves the click redirect. It
// owns the link_clicks table (migration 0026).
type Statistics struct {
	db     *sql.DB
	issues *issues.Store
	subs   *subscribers.Store
	mail   *mailer.Mailer
	tmpl   *templates.Set
	opt    StatisticsOptions
}

// NewStatistics returns the statistics over the stores.
func NewStatistics(db *sql.DB, is *issues.Store, subs *subscribers.Store, m *mailer.Mailer, tmpl *templates.Set, opt StatisticsOptions) *Statistics {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Statistics{db: db, issues: is, subs: subs, mail: m, tmpl: tmpl, opt: opt}
}

// Issue returns the issue's statistics; an issue never sent has zeros.
func (s *Statistics) Issue(ctx context.Context, issueID int64) (IssueStats, error) {
	is, err := s.issues.ByID(ctx, issueID)
	if err != nil {
		return IssueStats{}, err
	}
	l, err := s.subs.ListByID(ctx, is.ListID)
	if err != nil {
		return IssueStats{}, err
	}
	st := IssueStats{CountsClicks: l.CountClicks}
	if st.Links, err = s.clicks(ctx, is); err != nil {
		return IssueStats{}, err
	}
	run, ok, err := s.mail.RunOf(ctx, issueID)
	if err != nil || !ok {
		return st, err
	}
	p, err := s.mail.Progress(ctx, issueID)
	if err != nil {
		return IssueStats{}, err
	}
	st.Delivered, st.Bounced, st.Failed = p.Sent, p.Bounced, p.Failed
	// A joint issue counts the opt-outs from each of its lists, each
	// against the reader's deliveries for that list.
	for _, listID := range is.ListIDs() {
		n, final, err := s.optOuts(ctx, run, listID)
		if err != nil {
			return IssueStats{}, err
		}
		st.Unsubscribed, st.Final = st.Unsubscribed+n, final
	}
	return st, nil
}

// optOuts counts the opt-outs that belong to run's issue (the rule is
// attribute's). Only opt-outs up to OptOutWindow after the run finished
// can belong to it; each is checked against the reader's last delivery of
// the list before it, among the runs that started up to OptOutWindow
// before this one (a later issue can only have overtaken this one in
// that span).
func (s *Statistics) optOuts(ctx context.Context, run mailer.Run, listID int64) (n int, final bool, err error) {
	now := s.opt.Now()
	end := now
	if run.Done {
		end = run.Changed.Add(OptOutWindow)
		final = !end.After(now)
		end = minTime(end, now)
	}
	outs, err := s.subs.OptOuts(ctx, listID, run.Started, end.Add(time.Millisecond))
	if err != nil || len(outs) == 0 {
		return 0, final, err
	}
	probes := make([]mailer.SentProbe, len(outs))
	for i, o := range outs {
		probes[i] = mailer.SentProbe{SubscriberID: o.SubscriberID, Before: o.At}
	}
	last, err := s.mail.LastSent(ctx, listID, run.Started.Add(-OptOutWindow), probes)
	if err != nil {
		return 0, final, err
	}
	return attribute(run.IssueID, outs, last), final, nil
}

// attribute counts the opt-outs that belong to issueID: those whose
// reader's last delivery of the list before opting out (last[i], for
// outs[i]) was this issue, no longer than OptOutWindow before. So each
// opt-out counts under one issue at most, the latest the reader got, and
// the dashboard never shows it twice.
func attribute(issueID int64, outs []subscribers.OptOut, last []mailer.LastSent) int {
	n := 0
	for i, o := range outs {
		if l := last[i]; l.IssueID == issueID && o.At.Sub(l.At) <= OptOutWindow {
			n++
		}
	}
	return n
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
