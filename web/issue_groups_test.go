package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kawaraban/issues"
)

// The issue page words an issue's approval from issues.Issue itself
// (RequireApproval, ApprovedBy): awaiting approval with the approve
// button, then approved without it.
func TestIssueApprovalShown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if _, err := e.issues.Create(t.Context(), issues.Draft{ListID: 1, Subject: "承認の号", BodyMarkdown: "x", Author: "editor",
		RequireApproval: true}); err != nil {
		t.Fatal(err)
	}
	c, csrf := e.login("admin")
	_, page := e.get(c, "/admin/issues/1")
	if !strings.Contains(page, "承認待ち") || !strings.Contains(page, `action="/admin/issues/1/approve"`) {
		t.Fatalf("awaiting approval not shown:\n%s", page)
	}
	if resp, body := e.post(c, "/admin/issues/1/approve", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", resp.StatusCode, body)
	}
	_, page = e.get(c, "/admin/issues/1")
	if !strings.Contains(page, "承認済み") || strings.Contains(page, `action="/admin/issues/1/approve"`) {
		t.Fatalf("approval not shown:\n%s", page)
	}
}

// readerOnly is an IssueReader and nothing else (a handler group's fake
// need implement only its group).
type readerOnly struct{ IssueReader }

// TestIssueGroupsOptional: with only the reader set, the issue pages and
// the API read issues, and every action of a missing group answers "not
// available" (503), never a panic.
func TestIssueGroupsOptional(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) {
		o.Issues, o.Drafts, o.Sending, o.Checks, o.Approvals = readerOnly{o.Issues}, nil, nil, nil, nil
	})
	if _, err := e.issues.Create(t.Context(), issues.Draft{ListID: 1, Subject: "読むだけ", BodyMarkdown: "x", Author: "admin"}); err != nil {
		t.Fatal(err)
	}
	c, csrf := e.login("admin")
	if resp, body := e.get(c, "/admin/issues/1"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "読むだけ") {
		t.Fatalf("issue page: %d", resp.StatusCode)
	}
	tok := e.bearer("admin")
	if resp, body := e.api("GET", "/api/v1/issues/1", tok, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("api issue: %d %s", resp.StatusCode, body)
	}
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/admin/issues/1/send", ""}, {"POST", "/admin/issues/1/approve", ""}, {"POST", "/admin/issues/1/test", ""},
		{"POST", "/admin/issues/1/duplicate", ""}, {"POST", "/admin/issues/1", "subject=x&body=y"},
		{"POST", "/admin/issues", "list=shimin-katsudo&subject=x&body=y"},
	} {
		form, _ := url.ParseQuery(tc.body)
		form.Set("csrf", csrf)
		form.Set("confirm", "yes")
		if resp, _ := e.post(c, tc.path, form); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s %s: %d, want 503", tc.method, tc.path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/api/v1/issues/1/send", "/api/v1/issues/1/test", "/api/v1/issues/1/duplicate"} {
		if resp, body := e.api("POST", path, tok, "{}"); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s: %d %s, want 503", path, resp.StatusCode, body)
		}
	}
	if resp, body := e.api("POST", "/api/v1/issues", tok, `{"list":"shimin-katsudo","subject":"x","body_markdown":"y"}`); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("api create: %d %s, want 503", resp.StatusCode, body)
	}
}
