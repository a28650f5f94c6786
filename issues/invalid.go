package issues

import (
	"fmt"
	"strings"
)

// Problem is one refused field of a draft or of an action on an issue.
// Callers word it from Field and Code (web/status.go); Error's English is
// for logs and the API's message.
type Problem struct {
	// Field is subject, body_markdown, list or comment.
	Field string
	// Code says what is wrong: empty, line-break, not-utf8, too-long
	// (Limit characters), too-large (Limit bytes), missing, required.
	Code string
	// Limit is the bound a too-long or too-large value passed.
	Limit int
}

// Problem codes.
const (
	CodeEmpty     = "empty"
	CodeLineBreak = "line-break"
	CodeNotUTF8   = "not-utf8"
	CodeTooLong   = "too-long"
	CodeTooLarge  = "too-large"
	CodeMissing   = "missing"
	CodeRequired  = "required"
	// A joint issue's lists (issue 17): the lead is not first, a list is
	// named twice, more than Limit lists.
	CodeLeadNotFirst = "lead-not-first"
	CodeTwice        = "twice"
	CodeTooMany      = "too-many"
)

func (p Problem) String() string {
	switch p.Code {
	case CodeEmpty:
		return p.Field + " is empty"
	case CodeLineBreak:
		return p.Field + " contains a line break"
	case CodeNotUTF8:
		return p.name() + " is not valid UTF-8"
	case CodeTooLong:
		return fmt.Sprintf("%s is longer than %d characters", p.Field, p.Limit)
	case CodeTooLarge:
		return fmt.Sprintf("%s is larger than %d bytes", p.name(), p.Limit)
	case CodeMissing:
		return p.Field + " is missing"
	case CodeRequired:
		return "a " + p.Field + " is required"
	case CodeLeadNotFirst:
		return "the lead list must come first in lists"
	case CodeTwice:
		return "a list is named twice in lists"
	case CodeTooMany:
		return fmt.Sprintf("more than %d lists", p.Limit)
	}
	return p.Field + ": " + p.Code
}

func (p Problem) name() string {
	if p.Field == "body_markdown" {
		return "body"
	}
	return p.Field
}

// InvalidError lists every problem of a refused draft or action; nothing
// was stored. It wraps ErrInvalid.
type InvalidError struct{ Problems []Problem }

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ") + ": " + ErrInvalid.Error()
}

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *InvalidError) Unwrap() error { return ErrInvalid }
