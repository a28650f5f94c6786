package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrUsage marks errors that exit with code 2: bad usage, bad config, bad
// input. Everything else is a runtime failure (exit 1).
var ErrUsage = errors.New("usage")

// usageError wraps an error so that it exits with code 2.
type usageError struct{ err error }

func (e usageError) Error() string   { return e.err.Error() }
func (e usageError) Unwrap() error   { return e.err }
func (e usageError) Is(t error) bool { return t == ErrUsage }

// Usage marks err as bad usage or bad input (exit code 2); nil stays nil.
func Usage(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err}
}

// Usagef is a usage error (exit code 2) with a formatted message.
func Usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// ExitCode is the process's exit code for the error a command returned:
// 0 for none, 2 for a usage error, 1 for anything else. A failure is
// written to stderr as "PROGRAM: error".
func ExitCode(program string, err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, program+":", err)
	if errors.Is(err, ErrUsage) {
		return 2
	}
	return 1
}

// ProblemLines writes joined validation errors (errors.Join) one per
// line, each indented by two spaces, for a message that lists them.
func ProblemLines(err error) string {
	var lines []string
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		for _, e := range j.Unwrap() {
			lines = append(lines, "  "+e.Error())
		}
	} else {
		lines = append(lines, "  "+err.Error())
	}
	return strings.Join(lines, "\n")
}
