package web

import (
	"context"
	"html"
	"strings"
)

// Duplicate copies an issue into a new draft (the fake of issue 17's
// newsletter.Sending.Duplicate).
func (f *fakeIssues) Duplicate(ctx context.Context, id int64, actor string, requireApproval bool) (Issue, error) {
	is, err := f.ByID(ctx, id)
	if err != nil {
		return Issue{}, err
	}
	d := Draft{ListID: is.ListID, Subject: is.Subject, BodyMarkdown: is.BodyMarkdown, Author: actor, RequireApproval: requireApproval}
	if is.Joint() {
		d.ListIDs = is.listIDs()
	}
	return f.Create(ctx, d)
}

// IssueRecipients: every list has three readers, one of them on every list.
func (f *fakeIssues) IssueRecipients(ctx context.Context, id int64) (int, error) {
	is, err := f.ByID(ctx, id)
	if err != nil {
		return 0, err
	}
	return 1 + 2*len(is.listIDs()), nil
}

func (fakeRenderer) PreviewIssue(ctx context.Context, is Issue) (Parts, error) {
	body := strings.ReplaceAll(is.BodyMarkdown, "{{ .Name }}", "見本 太郎")
	return Parts{Subject: is.Subject, Text: body + "\n\n-- \nこの号は共同発行です。", HTML: "<p>" + html.EscapeString(body) + "</p><p>この号は共同発行です。</p>"}, nil
}
