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
	}
	for _, c := range cases {
		err := c.d.Validate()
		if !errors.Is(err, issues.ErrInvalid) {
			t.Fatalf("Validate(%+v) = %v", c.d, err)
		}
		got := issueProblemsJA(err.Error())
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
