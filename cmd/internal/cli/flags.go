package cli

import (
	"errors"
	"flag"
	"io"
)

// NewFlagSet returns a flag set that reports its errors to stderr instead
// of exiting.
func NewFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// Parse parses args into fs and turns its errors into usage errors:
// -h stays flag.ErrHelp, anything else names the command.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Usage(err)
		}
		return Usagef("%s: %v", fs.Name(), err)
	}
	return nil
}
