package newsletter

import (
	"context"
	"fmt"

	"kawaraban/issues"
	"kawaraban/progress"
	"kawaraban/subscribers"
)

// ReportsDraft drafts a list's issue from the bureaus' published progress
// reports (issue 23; `kawaraban progress draft-issue`).
type ReportsDraft struct {
	Subscribers *subscribers.Store
	Issues      *issues.Store
	Progress    *progress.Store
}

// Create composes the draft from the published reports
// (progress.Store.ComposeIssue: of deadline, or with "" the latest
// published report of every project) and creates it as an ordinary draft
// of the list listSlug, by by. It needs approval when the list asks for
// it: a composed draft is read by a person before it goes out. An unknown
// list is subscribers.ErrNotFound, an unknown deadline progress.ErrNotFound.
func (d ReportsDraft) Create(ctx context.Context, listSlug, deadline string, by issues.Actor) (issues.Issue, error) {
	l, err := d.Subscribers.ListBySlug(ctx, listSlug)
	if err != nil {
		return issues.Issue{}, err
	}
	dr, err := d.Progress.ComposeIssue(ctx, deadline)
	if err != nil {
		return issues.Issue{}, err
	}
	is, err := d.Issues.Create(ctx, issues.Draft{ListID: l.ID, Subject: dr.Subject, BodyMarkdown: dr.Markdown,
		Author: by.Login, Source: by.Source, RequireApproval: l.RequireApproval})
	if err != nil {
		return issues.Issue{}, fmt.Errorf("creating the draft issue: %w", err)
	}
	return is, nil
}
