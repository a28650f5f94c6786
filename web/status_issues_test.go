package web

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"kawaraban/issues"
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
