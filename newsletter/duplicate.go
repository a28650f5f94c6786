package newsletter

import (
	"context"

	"kawaraban/issues"
)

// Duplicate starts a new draft from issue id: the same lists, subject and
// body, written by by. Its number, schedule and approval are not copied
// (a new draft has none); requireApproval is the caller's decision for
// the new author, as at Create. The create event names the original.
func (s *Sending) Duplicate(ctx context.Context, id int64, by issues.Actor, requireApproval bool) (issues.Issue, error) {
	is, err := s.issues.ByID(ctx, id)
	if err != nil {
		return issues.Issue{}, err
	}
	d := issues.Draft{ListID: is.ListID, Subject: is.Subject, BodyMarkdown: is.BodyMarkdown,
		Author: by.Login, Source: by.Source, RequireApproval: requireApproval, DuplicateOf: is.ID}
	if is.Joint() {
		d.ListIDs = is.ListIDs()
	}
	return s.Create(ctx, d)
}
