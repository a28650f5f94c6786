package web

import (
	"context"
	"net/http"

	"golang.org/x/time/rate"

	"kawaraban/issues"
	"kawaraban/newsletter"
)

// IssueStats are an issue's privacy-first statistics: delivered, bounced,
// unsubscribed within 7 days (each opt-out under one issue only) and, for
// lists that count clicks, clicks per link. Package newsletter decides
// them; web only shows them.
type IssueStats = newsletter.IssueStats

// Stats is package newsletter's statistics as web uses them
// (*newsletter.Statistics satisfies it).
type Stats interface {
	Issue(ctx context.Context, issueID int64) (IssueStats, error)
	// Follow checks a click token, counts the click and returns the
	// issue's own link it stands for; Link does the same without
	// counting.
	Follow(ctx context.Context, tok string) (string, error)
	Link(ctx context.Context, tok string) (string, error)
}

// Click redirect limits per client address, held in memory only (the
// address is never stored): far above what a reader clicks, low enough
// that nobody inflates a count in bulk.
const (
	clicksPerMinute = 60
	clickBurst      = 30
)

// handleClick is GET /r/{token}, the click redirect: it counts one click
// for the issue's link (not for a HEAD) and sends the reader there. It sets no cookie and
// records no subscriber, address or IP; a token that is forged or names
// a link the issue does not have gets 404, never a redirect.
func (s *Server) handleClick(w http.ResponseWriter, r *http.Request) {
	if s.opt.Stats == nil {
		s.errorPage(w, r, http.StatusNotFound, "err.notfound")
		return
	}
	if !s.allowClick(s.clientIP(r)) {
		w.Header().Set("Retry-After", "60")
		s.errorPage(w, r, http.StatusTooManyRequests, "err.ratelimit")
		return
	}
	follow := s.opt.Stats.Follow
	if r.Method == http.MethodHead {
		follow = s.opt.Stats.Link // link checkers, not readers
	}
	to, err := follow(r.Context(), r.PathValue("token"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, to, http.StatusFound)
}

// allowClick applies the per-address limit of the click redirect.
func (s *Server) allowClick(ip string) bool {
	return s.allow("click "+ip, rate.Limit(float64(clicksPerMinute)/60), clickBurst)
}

// issueStats is the issue's statistics for a page; nil when they cannot
// be had (the page works without them).
func (s *Server) issueStats(ctx context.Context, is issues.Issue) *IssueStats {
	if s.opt.Stats == nil || is.ID == 0 {
		return nil
	}
	st, err := s.opt.Stats.Issue(ctx, is.ID)
	if err != nil {
		s.log.Warn("issue statistics", "issue_id", is.ID, "err", err)
		return nil
	}
	return &st
}

// statsJSON is the "stats" object of GET /api/v1/issues/{id}.
type statsJSON struct {
	Delivered int `json:"delivered"`
	Bounced   int `json:"bounced"`
	Failed    int `json:"failed"`
	// Unsubscribed7d counts opt-outs within 7 days of the reader's
	// delivery of this issue, when it was the last issue they got.
	Unsubscribed7d int  `json:"unsubscribed_7d"`
	Final          bool `json:"final"`
	CountsClicks   bool `json:"counts_clicks"`
	// Links are the issue's links with their clicks; empty when none was
	// counted.
	Links []linkClicksJSON `json:"links"`
}

type linkClicksJSON struct {
	URL    string `json:"url"`
	Clicks int    `json:"clicks"`
}

func statsView(st *IssueStats) *statsJSON {
	if st == nil {
		return nil
	}
	out := &statsJSON{Delivered: st.Delivered, Bounced: st.Bounced, Failed: st.Failed,
		Unsubscribed7d: st.Unsubscribed, Final: st.Final, CountsClicks: st.CountsClicks, Links: []linkClicksJSON{}}
	for _, l := range st.Links {
		out.Links = append(out.Links, linkClicksJSON{URL: l.URL, Clicks: l.Clicks})
	}
	return out
}

// dashIssueStats fills the dashboard's recent issues with their figures:
// delivered, bounced and the opt-outs counted for them (never one under
// two issues).
func (s *Server) dashIssueStats(ctx context.Context, iss []issues.Issue) []dashIssue {
	out := make([]dashIssue, len(iss))
	for i, is := range iss {
		out[i].Issue = is
		if st := s.issueStats(ctx, is); st != nil {
			out[i].Counts = dashCounts{Sent: st.Delivered, Bounced: st.Bounced, Unsubscribed: st.Unsubscribed}
			continue
		}
		p, _, _ := s.progress(ctx, is)
		out[i].Counts = dashCounts{Sent: p.Sent, Bounced: p.Bounced}
	}
	return out
}
