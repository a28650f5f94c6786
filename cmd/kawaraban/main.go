// Command kawaraban is the city's mail daemon and its command-line tools.
// main wires the packages together; it is the only place that builds
// concrete values, reads flags and the environment, and calls os.Exit.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	// Time zones (Asia/Tokyo) must load on machines without system tzdata.
	_ "time/tzdata"
)

// errUsage marks errors that exit with code 2: bad usage, bad config, bad
// input. Everything else is a runtime failure (exit 1).
var errUsage = errors.New("usage")

// usageError wraps err so that it exits with code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }
func (e usageError) Is(t error) bool {
	return t == errUsage
}

func badUsage(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "kawaraban:", err)
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

const usageText = `usage: kawaraban COMMAND [flags]

commands:
  serve [--config FILE] [--data DIR] [--listen ADDR]
  check-config [--dns] FILE
  version
  backup [--config FILE | --data DIR] OUT.db
  restore [--config FILE | --data DIR] FROM.db   (daemon stopped)
  import subscribers [--config|--data] --list SLUG [--consent-source SRC] [--dry-run] FILE.csv
  export subscribers [--config|--data] --list SLUG [--bom]
  export consent [--config|--data] [--list SLUG] [--bom]
  bounce classify --json FILE...
  bounce not-a-bounce [--config|--data] [--by LOGIN] ID
  user add [--config|--data] --login L --role admin|editor|coordinator|viewer [--lists a,b]
  user reset-password [--config|--data] --login L     # prints a one-time password; revokes the user's tokens
  token create [--config|--data] --login L [--expires 90d|720h|RFC3339]
  token list [--config|--data] --login L
  token revoke [--config|--data] --login L TOKEN-ID
  progress import [--config|--data] FILE.yaml
  progress publish [--config|--data] --deadline ID [--bureau B]
  progress draft-issue [--config|--data] --list SLUG [--deadline ID]   # prints the draft's id
  export progress [--config|--data] [--deadline ID] [--bom]
  reminders run [--config|--data] [--now RFC3339] [--dry-run] [--show]
  local mail [--data DIR] --from ADDR --to ADDR [--subject S] [FILE]

Without --config (or KAWARABAN_CONFIG) commands use local mode in --data DIR
(default ./kawaraban-data).`

// run executes one command. It is main without the process: tests call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usageText)
		return badUsage("no command given")
	}
	cmd, rest := args[0], args[1:]
	two := func() (string, []string) {
		if len(rest) == 0 {
			return cmd + " ?", nil
		}
		return cmd + " " + rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr)
	case "check-config":
		return cmdCheckConfig(ctx, rest, stdout)
	case "version", "--version", "-v":
		return cmdVersion(stdout)
	case "backup":
		return cmdBackup(ctx, rest, stdout)
	case "restore":
		return cmdRestore(ctx, rest, stdout, stderr)
	case "help", "--help", "-h":
		fmt.Fprintln(stdout, usageText)
		return nil
	case "import", "export", "bounce", "user", "token", "progress", "reminders", "local":
		name, sub := two()
		return runSub(ctx, name, sub, stdin, stdout, stderr)
	}
	fmt.Fprintln(stderr, usageText)
	return badUsage("unknown command %q", cmd)
}

// runSub dispatches the two-word commands.
func runSub(ctx context.Context, name string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if h, ok := subcommandTable()[name]; ok {
		return h(ctx, args, stdin, stdout, stderr)
	}
	fmt.Fprintln(stderr, usageText)
	return badUsage("unknown command %q", name)
}

type subcommand func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
