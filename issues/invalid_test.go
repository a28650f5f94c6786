package issues

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestValidateProblems: a refused draft says, per field, what is wrong as
// a code a caller can word (issue 14), and keeps the English message.
func TestValidateProblems(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		d    Draft
		want []Problem
		msg  string
	}{
		{"empty subject", Draft{ListID: 1}, []Problem{{Field: "subject", Code: CodeEmpty}}, "subject is empty: invalid issue"},
		{"long subject", Draft{ListID: 1, Subject: strings.Repeat("あ", MaxSubjectRunes+1)},
			[]Problem{{Field: "subject", Code: CodeTooLong, Limit: MaxSubjectRunes}}, "subject is longer than"},
		{"line break, large body, no list", Draft{Subject: "a\nb", BodyMarkdown: strings.Repeat("x", MaxBodyBytes+1)},
			[]Problem{{Field: "subject", Code: CodeLineBreak}, {Field: "body_markdown", Code: CodeTooLarge, Limit: MaxBodyBytes}, {Field: "list", Code: CodeMissing}},
			"subject contains a line break; body is larger than"},
		{"bad utf-8", Draft{ListID: 1, Subject: "\xff", BodyMarkdown: "\xff"},
			[]Problem{{Field: "subject", Code: CodeNotUTF8}, {Field: "body_markdown", Code: CodeNotUTF8}}, "body is not valid UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := c.d.Validate()
			var ie *InvalidError
			if !errors.As(err, &ie) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want an *InvalidError wrapping ErrInvalid", err)
			}
			if !reflect.DeepEqual(ie.Problems, c.want) {
				t.Errorf("problems %+v, want %+v", ie.Problems, c.want)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("message %q lacks %q", err, c.msg)
			}
		})
	}
}
