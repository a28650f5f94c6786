package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestExitCode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"ok", nil, 0, ""},
		{"runtime failure", errors.New("disk full"), 1, "prog: disk full\n"},
		{"usage", Usagef("needs --list %s", "SLUG"), 2, "prog: needs --list SLUG\n"},
		{"wrapped usage", fmt.Errorf("import: %w", Usage(errors.New("bad row"))), 2, "prog: import: bad row\n"},
		{"usage of nil", Usage(nil), 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			if got := ExitCode("prog", c.err, &b); got != c.code || b.String() != c.stderr {
				t.Errorf("ExitCode = %d %q, want %d %q", got, b.String(), c.code, c.stderr)
			}
		})
	}
}

func TestUsageKeepsTheCause(t *testing.T) {
	t.Parallel()
	cause := errors.New("cause")
	err := Usage(cause)
	if !errors.Is(err, cause) || !errors.Is(err, ErrUsage) || err.Error() != "cause" {
		t.Errorf("Usage(cause) = %v: want it to wrap cause and be ErrUsage", err)
	}
}

func TestProblemLines(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"one", errors.New("smtp.port: must be 1..65535"), "  smtp.port: must be 1..65535"},
		{"joined", errors.Join(errors.New("smtp.port: bad"), errors.New("base_url: missing")), "  smtp.port: bad\n  base_url: missing"},
		{"joined inside a wrap", fmt.Errorf("x: %w", errors.Join(errors.New("a"), errors.New("b"))), "  a\n  b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := ProblemLines(c.err); got != c.want {
				t.Errorf("ProblemLines = %q, want %q", got, c.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		args    []string
		wantErr string // "" for none
		help    bool
	}{
		{"ok", []string{"--list", "a", "FILE"}, "", false},
		{"unknown flag", []string{"--nope"}, "import subscribers: flag provided but not defined: -nope", false},
		{"help", []string{"-h"}, "flag: help requested", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fs := NewFlagSet("import subscribers", io.Discard)
			fs.String("list", "", "")
			err := Parse(fs, c.args)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil || err.Error() != c.wantErr || !errors.Is(err, ErrUsage) || errors.Is(err, flag.ErrHelp) != c.help {
				t.Errorf("Parse = %v, want usage error %q (help %v)", err, c.wantErr, c.help)
			}
		})
	}
}
