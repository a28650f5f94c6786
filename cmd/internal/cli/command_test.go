package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
)

// testProgram records what ran in its output.
func testProgram() Program {
	echo := func(name string) func(fs *flag.FlagSet) Action {
		return func(fs *flag.FlagSet) Action {
			list := fs.String("list", "", "")
			return func(_ context.Context, c Call) error {
				fmt.Fprintf(c.Stdout, "%s list=%s args=%v", name, *list, c.Args)
				return nil
			}
		}
	}
	return Program{
		Name: "prog",
		Commands: []Command{
			{Name: "serve", Usage: "[--list L]", Flags: echo("serve")},
			{Name: "version", Aliases: []string{"--version", "-v"}, Raw: func(_ context.Context, c Call) error {
				fmt.Fprintf(c.Stdout, "version args=%v", c.Args)
				return nil
			}},
			{Name: "import subscribers", Usage: "--list SLUG FILE.csv   # a note", Flags: echo("import subscribers")},
			{Name: "import progress", Usage: "FILE.yaml", Flags: echo("import progress")},
		},
		Footer: "A footer.",
	}
}

func TestUsageText(t *testing.T) {
	t.Parallel()
	want := `usage: prog COMMAND [flags]

commands:
  serve [--list L]
  version
  import subscribers --list SLUG FILE.csv   # a note
  import progress FILE.yaml

A footer.`
	if got := testProgram().UsageText(); got != want {
		t.Errorf("UsageText:\n%s\nwant:\n%s", got, want)
	}
}

func TestProgramRun(t *testing.T) {
	t.Parallel()
	usage := testProgram().UsageText() + "\n"
	cases := []struct {
		name           string
		args           []string
		stdout, stderr string
		err            string // "" for none; every error here is a usage error
	}{
		{"no command", nil, "", usage, "no command given"},
		{"help", []string{"help"}, usage, "", ""},
		{"--help", []string{"--help"}, usage, "", ""},
		{"one word with flags", []string{"serve", "--list", "a", "x"}, "serve list=a args=[x]", "", ""},
		{"raw arguments", []string{"version", "--list", "a"}, "version args=[--list a]", "", ""},
		{"alias", []string{"-v"}, "version args=[]", "", ""},
		{"two words", []string{"import", "subscribers", "--list", "kodomo", "f.csv"}, "import subscribers list=kodomo args=[f.csv]", "", ""},
		{"second of a group", []string{"import", "progress", "p.yaml"}, "import progress list= args=[p.yaml]", "", ""},
		{"unknown", []string{"frobnicate"}, "", usage, `unknown command "frobnicate"`},
		{"unknown in a group", []string{"import", "users"}, "", usage, `unknown command "import users"`},
		{"group alone", []string{"import"}, "", usage, `unknown command "import ?"`},
		{"bad flag", []string{"serve", "--nope"}, "", "flag provided but not defined: -nope\n", "serve: flag provided but not defined: -nope"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var out, errb strings.Builder
			err := testProgram().Run(context.Background(), c.args, Call{Stdout: &out, Stderr: &errb})
			if c.err == "" && err != nil || c.err != "" && (err == nil || err.Error() != c.err || !errors.Is(err, ErrUsage)) {
				t.Errorf("err = %v, want %q", err, c.err)
			}
			if out.String() != c.stdout {
				t.Errorf("stdout %q, want %q", out.String(), c.stdout)
			}
			if !strings.HasPrefix(errb.String(), c.stderr) {
				t.Errorf("stderr %q, want it to begin with %q", errb.String(), c.stderr)
			}
		})
	}
}
