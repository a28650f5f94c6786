package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kawaraban/issues"
	"kawaraban/localmail"
	"kawaraban/scheduler"
	"kawaraban/subscribers"
	"kawaraban/templates"
)

// TestIssueProblemsJA: what Validate reports reads as Japanese, with no
// English word left (issue 21).
func TestIssueProblemsJA(t *testing.T) {
	t.Parallel()
	cases := []struct {
		d    issues.Draft
		want string
	}{
		{issues.Draft{ListID: 1}, "件名を入力してください。"},
		{issues.Draft{ListID: 1, Subject: strings.Repeat("あ", issues.MaxSubjectRunes+1)}, fmt.Sprintf("件名は%d文字以内にしてください。", issues.MaxSubjectRunes)},
		{issues.Draft{Subject: "a\nb", BodyMarkdown: strings.Repeat("x", issues.MaxBodyBytes+1)}, "件名に改行は使えません。本文が長すぎます"},
		{issues.Draft{ListID: 1, Subject: "x", BodyMarkdown: "\xff"}, "本文に読み取れない文字があります。"},
		{issues.Draft{Subject: "x"}, "メールマガジンを選んでください。"},
	}
	for _, c := range cases {
		var ie *InputError
		err := domainErr(c.d.Validate())
		if !errors.As(err, &ie) {
			t.Fatalf("Validate(%+v) maps to %v", c.d, err)
		}
		got := ie.MessageJA
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%q → %q, want prefix %q", err, got, c.want)
		}
		for _, r := range got {
			if r < 0x80 && (r >= 'a' && r <= 'z') {
				t.Errorf("%q has English left", got)
				break
			}
		}
	}
}

// TestRejectWithoutCommentJA: the action's refusal is worded from its
// code too.
func TestRejectWithoutCommentJA(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("rejecting issue 7: %w", &issues.InvalidError{Problems: []issues.Problem{{Field: "comment", Code: issues.CodeRequired}}})
	var ie *InputError
	if !errors.As(domainErr(err), &ie) || ie.MessageJA != "差し戻しの理由をコメントに書いてください。" {
		t.Fatalf("mapped to %+v", ie)
	}
	if code, _ := statusOf(err); code != 422 {
		t.Errorf("status %d, want 422", code)
	}
}

// TestFinishedOneOffScheduleSaysDone (issue 17): a one-off send that has
// fired says 完了 and offers no pause; the API says "done".
func TestFinishedOneOffScheduleSaysDone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, _ := e.login("admin")
	_, body := e.get(c, "/admin/schedules")
	row := body
	if j := strings.Index(body, "2026-12-01T09:00:00+09:00"); j >= 0 { // the one-off's instant
		row = body[j:]
		if k := strings.Index(row, "</tr>"); k >= 0 {
			row = row[:k]
		}
	}
	if !strings.Contains(row, "完了") || strings.Contains(row, "/admin/schedules/4/pause") {
		t.Errorf("the finished one-off's row is %q: want 完了 and no pause button", row)
	}
	if !strings.Contains(body, "/admin/schedules/1/pause") {
		t.Error("an active schedule lost its pause button")
	}
	_, api := e.api("GET", "/api/v1/schedules", e.bearer("admin"), "")
	if !strings.Contains(api, `"id":4`) || !strings.Contains(api, `"state":"done"`) || !strings.Contains(api, `"state":"active"`) {
		t.Errorf("API schedules: %s", api)
	}
}

// brokenDeliveries cannot say how far a send is.
type brokenDeliveries struct{}

func (brokenDeliveries) Progress(context.Context, int64) (Progress, error) {
	return Progress{}, errors.New("mailer progress: database is locked")
}

// TestCancelConfirmationNeedsTheCount: the question before 中止 states
// how many will not get the issue; when the mailer cannot say, the page
// fails instead of guessing from stale counts (issue 14).
func TestCancelConfirmationNeedsTheCount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.Deliveries = brokenDeliveries{} })
	e.issues.async = true
	tok := e.bearer("editor")
	if resp, body := e.api("POST", "/api/v1/issues", tok, `{"list":"shimin-katsudo","subject":"s","body_markdown":"b"}`); resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.api("POST", "/api/v1/issues/1/send", tok, ""); resp.StatusCode != 202 {
		t.Fatalf("send: %d %s", resp.StatusCode, body)
	}
	c, csrf := e.login("editor")
	resp, body := e.post(c, "/admin/issues/1/cancel", url.Values{"csrf": {csrf}})
	if resp.StatusCode != 500 || strings.Contains(body, `id="confirm-cancel"`) {
		t.Errorf("cancel confirmation without the count: %d, want 500 and no question", resp.StatusCode)
	}
}

// TestDomainInputErrors: each domain error domainErr words for a form is
// a 422 with its own words, wrapped or not (statusOf and userMessage
// word it through domainErr and nowhere else).
func TestDomainInputErrors(t *testing.T) {
	t.Parallel()
	v := &view{Lang: "ja"}
	for _, err := range []error{
		&subscribers.AddressError{Code: "multiple-at", Message: "two @", MessageJA: "@が2つあります"},
		subscribers.ErrNoList, subscribers.ErrDomainNotAllowed, subscribers.ErrConsentSourceRequired,
		subscribers.ErrBadCSV, subscribers.ErrListClosed,
		templates.ErrTemplate, templates.ErrInvalidInput, templates.ErrMissingLegal,
		&templates.TemplateError{File: "body", Line: 2, Msg: "unexpected EOF"},
		&issues.InvalidError{Problems: []issues.Problem{{Field: "subject", Code: issues.CodeEmpty}}},
	} {
		err := fmt.Errorf("saving: %w", err)
		code, key := statusOf(err)
		if code != http.StatusUnprocessableEntity {
			t.Errorf("%v: status %d, want 422", err, code)
		}
		if msg := userMessage(v, key, err); msg == "" || msg == v.T("err.input") {
			t.Errorf("%v: message %q, want its own words", err, msg)
		}
	}
}

// TestDomainInputErrorsNoEnglishInJapanese: the Japanese words of a
// refused input never carry the English detail of the error behind them
// (the Japanese UI shows no English word); where the detail matters they
// say it in Japanese (which line of the body).
func TestDomainInputErrorsNoEnglishInJapanese(t *testing.T) {
	t.Parallel()
	v := &view{Lang: "ja"}
	for _, tc := range []struct {
		err  error
		want string // a part the Japanese words must have
	}{
		{fmt.Errorf("%w %q: expected exactly 5 fields", scheduler.ErrInvalidSpec, "0 9 *"), "5つの欄"},
		{fmt.Errorf("%w %q: not an IANA timezone name such as Asia/Tokyo", scheduler.ErrUnknownTimezone, "Asia/Tokio"), "タイムゾーン"},
		{fmt.Errorf("from %q: no @ sign: %w", "citizen", localmail.ErrBadInbound), "差出人"},
		{fmt.Errorf("no email column: %w", subscribers.ErrBadCSV), "見出し"},
		{fmt.Errorf("preparing issue 3 for list chonai: %w", templates.ErrMissingLegal), "送信者"},
		{fmt.Errorf("subject contains a line break: %w", templates.ErrInvalidInput), "件名"},
		{&templates.TemplateError{File: "body", Line: 2, Column: 5, Msg: "only {{ .Name }} is allowed"}, "本文 2行目"},
		{&templates.TemplateError{File: "subject", Line: 1, Msg: "unexpected EOF"}, "件名 1行目"},
		{&templates.TemplateError{File: "issue.html.tmpl", Msg: "the legally required footer lacks sender_name"}, "issue.html.tmpl"},
	} {
		_, key := statusOf(tc.err)
		msg := userMessage(v, key, tc.err)
		if !strings.Contains(msg, tc.want) {
			t.Errorf("%v: %q, want it to say %q", tc.err, msg, tc.want)
		}
		for _, english := range []string{"expected", "IANA", "no @", "column", "preparing", "line break", "allowed", "EOF", "lacks"} {
			if strings.Contains(msg, english) {
				t.Errorf("%v: the Japanese words %q carry the English %q", tc.err, msg, english)
			}
		}
	}
}
