package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Call is one run of a command: its arguments after the flags, and where
// it reads and writes.
type Call struct {
	Args           []string
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Action runs a command.
type Action func(ctx context.Context, c Call) error

// Command is one line of a program's command table.
type Command struct {
	// Name is one word ("serve") or two ("import subscribers"); the first
	// word of a two-word name is its group.
	Name string
	// Usage is the rest of the command's line in the usage text: its
	// flags, arguments and notes, as the user should read them.
	Usage string
	// Aliases are other one-word names that run the command ("--version").
	Aliases []string
	// Flags registers the command's flags on a fresh flag set named after
	// the command and returns the action that runs once they are parsed;
	// Call.Args holds what follows the flags.
	Flags func(fs *flag.FlagSet) Action
	// Raw runs a command that reads its arguments itself (Flags nil).
	Raw Action
}

// Program is a command-line program: its name and its command table, in
// the order the usage text lists them.
type Program struct {
	Name     string
	Commands []Command
	// Footer follows the list of commands in the usage text.
	Footer string
}

// UsageText is the program's usage: one line per command, from the table.
func (p Program) UsageText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s COMMAND [flags]\n\ncommands:\n", p.Name)
	for _, c := range p.Commands {
		b.WriteString("  " + c.Name)
		if c.Usage != "" {
			b.WriteString(" " + c.Usage)
		}
		b.WriteString("\n")
	}
	if p.Footer != "" {
		b.WriteString("\n" + p.Footer)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Run runs the command args names (one or two words) with the rest of
// args. help, --help and -h print the usage on stdout; no command or an
// unknown one prints it on stderr and is a usage error.
func (p Program) Run(ctx context.Context, args []string, c Call) error {
	if len(args) == 0 {
		fmt.Fprintln(c.Stderr, p.UsageText())
		return Usagef("no command given")
	}
	word, rest := args[0], args[1:]
	switch word {
	case "help", "--help", "-h":
		fmt.Fprintln(c.Stdout, p.UsageText())
		return nil
	}
	name := word
	if p.isGroup(word) {
		name, rest = word+" ?", nil
		if len(args) > 1 {
			name, rest = word+" "+args[1], args[2:]
		}
	}
	cmd, ok := p.find(name)
	if !ok {
		fmt.Fprintln(c.Stderr, p.UsageText())
		return Usagef("unknown command %q", name)
	}
	if cmd.Flags == nil {
		c.Args = rest
		return cmd.Raw(ctx, c)
	}
	fs := NewFlagSet(cmd.Name, c.Stderr)
	act := cmd.Flags(fs)
	if err := Parse(fs, rest); err != nil {
		return err
	}
	c.Args = fs.Args()
	return act(ctx, c)
}

// isGroup reports whether word begins a two-word command.
func (p Program) isGroup(word string) bool {
	for _, c := range p.Commands {
		if g, _, two := strings.Cut(c.Name, " "); two && g == word {
			return true
		}
	}
	return false
}

func (p Program) find(name string) (Command, bool) {
	for _, c := range p.Commands {
		if c.Name == name {
			return c, true
		}
		for _, a := range c.Aliases {
			if a == name {
				return c, true
			}
		}
	}
	return Command{}, false
}
