package newsletter

import (
	"context"
	"fmt"
	"time"

	"kawaraban/issues"
	"kawaraban/templates"
	"kawaraban/token"
)

// clickPurpose signs click redirect tokens: the payload is the issue id
// and the link's index, nothing else, and the token never expires (a link
// in an old mail keeps working).
const clickPurpose = "click"

// ClickPath is where the click redirect is served; a token follows it.
const ClickPath = "/r/"

// clickURL is the redirect address that stands for link index of the
// issue in mail of a list that counts clicks.
func clickURL(base string, sg *token.Signer, issueID int64, index int) string {
	return base + ClickPath + sg.Sign(clickPurpose, token.IDs(issueID, int64(index)), time.Time{})
}

// clickTracker is the issue's LinkTracker: nil (links as written) unless
// its list counts clicks and a signer is configured.
func clickTracker(base string, sg *token.Signer, issueID int64, countClicks bool) templates.LinkTracker {
	if !countClicks || sg == nil {
		return nil
	}
	return func(i int, _ string) string { return clickURL(base, sg, issueID, i) }
}

// Follow checks a click token and returns the link it stands for, which
// is always one of the issue's own links (Links), never an address from
// the request. It adds one to the link's count while the issue's list
// counts clicks; it records nothing about who clicked. A forged or
// malformed token is a token error, a link the issue does not have
// ErrNoSuchLink.
func (s *Statistics) Follow(ctx context.Context, tok string) (string, error) {
	t, err := s.target(ctx, tok)
	if err != nil || !t.count {
		return t.url, err
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO link_clicks (issue_id, link_index, n) VALUES (?, ?, 1)
		ON CONFLICT (issue_id, link_index) DO UPDATE SET n = n + 1`, t.issueID, t.index); err != nil {
		// The reader still gets where the link leads.
		s.opt.Logger.Warn("counting a click", "issue_id", t.issueID, "link", t.index, "err", err)
	}
	return t.url, nil
}

// Link is Follow without counting: for a HEAD request, which link
// checkers send, not readers.
func (s *Statistics) Link(ctx context.Context, tok string) (string, error) {
	t, err := s.target(ctx, tok)
	return t.url, err
}

type clickTarget struct {
	issueID, index int64
	url            string
	count          bool // the issue's list counts clicks
}

func (s *Statistics) target(ctx context.Context, tok string) (clickTarget, error) {
	payload, err := s.opt.Signer.Verify(clickPurpose, tok, s.opt.Now())
	if err != nil {
		return clickTarget{}, err
	}
	ids, err := token.ParseIDs(payload, 2)
	if err != nil {
		return clickTarget{}, err
	}
	is, err := s.issues.ByID(ctx, ids[0])
	if err != nil {
		return clickTarget{}, err
	}
	links, err := s.tmpl.Links(is.BodyMarkdown)
	if err != nil {
		return clickTarget{}, err
	}
	idx := ids[1]
	if idx < 0 || idx >= int64(len(links)) {
		return clickTarget{}, fmt.Errorf("issue %d link %d: %w", is.ID, idx, ErrNoSuchLink)
	}
	l, err := s.subs.ListByID(ctx, is.ListID)
	if err != nil {
		return clickTarget{}, err
	}
	return clickTarget{issueID: is.ID, index: idx, url: links[idx], count: l.CountClicks}, nil
}

// clicks returns the issue's links with their counts, in the order of
// the issue's links; nil when no link was ever followed.
func (s *Statistics) clicks(ctx context.Context, is issues.Issue) ([]LinkClicks, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT link_index, n FROM link_clicks WHERE issue_id = ? ORDER BY link_index`, is.ID)
	if err != nil {
		return nil, fmt.Errorf("reading clicks of issue %d: %w", is.ID, err)
	}
	defer rows.Close()
	counts := map[int]int{}
	for rows.Next() {
		var i, n int
		if err := rows.Scan(&i, &n); err != nil {
			return nil, fmt.Errorf("reading clicks of issue %d: %w", is.ID, err)
		}
		counts[i] = n
	}
	if err := rows.Err(); err != nil || len(counts) == 0 {
		return nil, err
	}
	links, err := s.tmpl.Links(is.BodyMarkdown)
	if err != nil {
		return nil, err
	}
	out := make([]LinkClicks, len(links))
	for i, u := range links {
		out[i] = LinkClicks{Index: i, URL: u, Clicks: counts[i]}
	}
	return out, nil
}
