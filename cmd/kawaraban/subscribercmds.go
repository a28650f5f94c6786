package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"kawaraban/cmd/internal/cli"
	"kawaraban/subscribers"
)

// The commands on a list's subscribers and their consent records.

func importSubscribers(fs *flag.FlagSet) cli.Action {
	ef := dbFlags(fs)
	list := fs.String("list", "", "list slug (required)")
	source := fs.String("consent-source", "", "how these people consented (required for public lists), e.g. \"paper form at the 2026 fair\"")
	dry := fs.Bool("dry-run", false, "check and report; change nothing")
	return func(ctx context.Context, c cli.Call) error {
		if *list == "" || len(c.Args) != 1 {
			return cli.Usagef("import subscribers needs --list SLUG and one FILE.csv")
		}
		f, err := os.Open(c.Args[0])
		if err != nil {
			return cli.Usage(err)
		}
		defer f.Close()
		return withEnv(ctx, ef, c, func(e *env) error {
			subs := e.subscribers(nil)
			if err := e.syncLists(ctx, subs); err != nil {
				return err
			}
			bar := cli.NewBar(c.Stderr)
			rep, err := subs.Import(ctx, f, subscribers.ImportOptions{
				ListSlug: *list, ConsentSource: *source, DryRun: *dry, Actor: "cli",
				FileName: filepath.Base(c.Args[0]), Progress: func(p subscribers.ImportProgress) {
					bar.Show(p.Text(), p.Done, p.Total)
					if p.Finished() {
						bar.Clear() // the import's own log line comes next
					}
				},
			})
			bar.Clear()
			if err != nil {
				return inputErr(err)
			}
			if rep.Resumed {
				fmt.Fprintf(c.Stderr, "resumed import %d, which had stopped half-way\n", rep.ImportID)
			}
			rep.WriteText(c.Stdout, c.Args[0])
			return nil
		})
	}
}

func exportListSubscribers(fs *flag.FlagSet) cli.Action {
	ef := dbFlags(fs)
	list := fs.String("list", "", "list slug (required)")
	bom := fs.Bool("bom", false, "start with a UTF-8 BOM (for Excel)")
	return func(ctx context.Context, c cli.Call) error {
		if *list == "" {
			return cli.Usagef("export subscribers needs --list SLUG")
		}
		return withEnv(ctx, ef, c, func(e *env) error {
			return inputErr(e.subscribers(nil).ExportSubscribers(ctx, c.Stdout, *list, *bom))
		})
	}
}

func exportConsent(fs *flag.FlagSet) cli.Action {
	ef := dbFlags(fs)
	list := fs.String("list", "", "list slug (default: all lists)")
	bom := fs.Bool("bom", false, "start with a UTF-8 BOM (for Excel)")
	return func(ctx context.Context, c cli.Call) error {
		return withEnv(ctx, ef, c, func(e *env) error {
			return inputErr(e.subscribers(nil).ExportConsent(ctx, c.Stdout, *list, *bom))
		})
	}
}
