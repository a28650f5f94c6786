// Command kawaraban is the city's mail daemon and its command-line tools.
// main wires the packages together; it is the only place that builds
// concrete values, reads flags and the environment, and calls os.Exit.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
	// Time zones (Asia/Tokyo) must load on machines without system tzdata.
	_ "time/tzdata"

	"kawaraban/cmd/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode is 0, 1 for a runtime failure or 2 for bad usage, config or
// input; a failure is written to stderr.
func exitCode(err error, stderr io.Writer) int { return cli.ExitCode("kawaraban", err, stderr) }

// run executes one command. It is main without the process: tests call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return program().Run(ctx, args, cli.Call{Stdin: stdin, Stdout: stdout, Stderr: stderr})
}
