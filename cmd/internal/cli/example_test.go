package cli_test

import (
	"context"
	"flag"
	"fmt"
	"os"

	"kawaraban/cmd/internal/cli"
)

// A program with a one-word and a two-word command: the usage text comes
// from the table, and each command's flags are parsed before it runs.
func ExampleProgram() {
	p := cli.Program{
		Name: "kw",
		Commands: []cli.Command{
			{Name: "version", Raw: func(_ context.Context, c cli.Call) error {
				fmt.Fprintln(c.Stdout, "kw 1.0")
				return nil
			}},
			{Name: "export consent", Usage: "[--list SLUG]", Flags: func(fs *flag.FlagSet) cli.Action {
				list := fs.String("list", "", "list slug (default: all lists)")
				return func(_ context.Context, c cli.Call) error {
					if *list == "" {
						return cli.Usagef("export consent: which list?")
					}
					fmt.Fprintln(c.Stdout, "exporting", *list)
					return nil
				}
			}},
		},
	}
	call := cli.Call{Stdout: os.Stdout, Stderr: os.Stdout}
	p.Run(context.Background(), []string{"export", "consent", "--list", "chonai"}, call)
	err := p.Run(context.Background(), []string{"export", "consent"}, call)
	fmt.Println("exit", cli.ExitCode("kw", err, os.Stdout))
	fmt.Println(p.UsageText())
	// Output:
	// exporting chonai
	// kw: export consent: which list?
	// exit 2
	// usage: kw COMMAND [flags]
	//
	// commands:
	//   version
	//   export consent [--list SLUG]
}
