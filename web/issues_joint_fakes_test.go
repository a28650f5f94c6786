package web

import (
	"context"
	"html"
	"strings"

	"kawaraban/issues"
	"kawaraban/mailer"
	"kawaraban/templates"
)

// Duplicate copies an issue into a new draft (the fake of issue 17's
// newsletter.Sending.Duplicate).
func (f *fakeIssues) Duplicate(ctx context.Context, id int64, by issues.Actor, requireApproval bool) (issues.Issue, error) {
	is, err := f.ByID(ctx, id)
	if err != nil {
		return issues.Issue{}, err
	}
	d := issues.Draft{ListID: is.ListID, Subject: is.Subject, BodyMarkdown: is.BodyMarkdown, Author: by.Login, RequireApproval: requireApproval}
	if is.Joint() {
		d.ListIDs = is.ListIDs()
	}
	return f.Create(ctx, d)
}

// IssueRecipients: every list has three readers, one of them on every list.
func (f *fakeIssues) IssueRecipients(ctx context.Context, is issues.Issue) (int, error) {
	return 1 + 2*len(is.ListIDs()), nil
}

// PreviewJoint is Preview with a footer that says so for several lists.
func (f fakeRenderer) PreviewJoint(ctx context.Context, listIDs []int64, forList int64, subject, md string, rc templates.Recipient) (*mailer.Message, error) {
	if len(listIDs) < 2 {
		return f.Preview(ctx, forList, subject, md, rc.Email)
	}
	body := strings.ReplaceAll(md, "{{ .Name }}", "見本 太郎")
	return &mailer.Message{Subject: subject, Text: body + "\n\n-- \nこの号は共同発行です。", HTML: "<p>" + html.EscapeString(body) + "</p><p>この号は共同発行です。</p>"}, nil
}
