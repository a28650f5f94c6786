package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"kawaraban/cmd/internal/cli"
	"kawaraban/issues"
	"kawaraban/newsletter"
	"kawaraban/progress"
)

// The commands of the plan's progress: import the progress file, run the
// reminder job, and those around the bureaus' reports (issue 23): publish
// them (the coordinator's button), compose the internal newsletter's draft
// from the published ones, and export them for the council report.

func progressImport(fs *flag.FlagSet) cli.Action {
	ef := dbFlags(fs)
	return func(ctx context.Context, c cli.Call) error {
		if len(c.Args) != 1 {
			return cli.Usagef("progress import needs one FILE.yaml")
		}
		f, err := os.Open(c.Args[0])
		if err != nil {
			return cli.Usage(err)
		}
		defer f.Close()
		return withEnv(ctx, ef, c, func(e *env) error {
			rep, err := e.progress(nil).Import(ctx, f, c.Args[0])
			var fe *progress.FileError
			if errors.As(err, &fe) {
				return cli.Usage(fmt.Errorf("%s: nothing imported:\n%s", c.Args[0], fe.ProblemLines()))
			}
			if err != nil {
				return inputErr(err)
			}
			rep.WriteText(c.Stdout)
			return nil
		})
	}
}

func remindersRun(fs *flag.FlagSet) cli.Action {
	ef := dbFlags(fs)
	nowFlag := fs.String("now", "", "run as if at this RFC 3339 time (default: now)")
	dry := fs.Bool("dry-run", false, "report what would be sent; send and record nothing")
	show := fs.Bool("show", false, "print each mail: recipient, subject and text")
	return func(ctx context.Context, c cli.Call) error {
		now := time.Now()
		if *nowFlag != "" {
			t, err := time.Parse(time.RFC3339, *nowFlag)
			if err != nil {
				return cli.Usagef("--now: not an RFC 3339 time like 2027-04-23T09:00:00+09:00: %q", *nowFlag)
			}
			now = t
		}
		return withEnv(ctx, ef, c, func(e *env) error {
			m, err := newMailing(ctx, e, mailingOptions{localServers: true})
			if err != nil {
				return err
			}
			defer m.Close()
			ps := e.progress(m.system)
			rep, err := ps.RunReminders(ctx, now, *dry)
			if err != nil {
				return err
			}
			rep.WriteText(c.Stdout, *show)
			next, err := ps.NextReminders(ctx, now)
			if err != nil {
				return err
			}
			progress.WriteNext(c.Stdout, next)
			return rep.Err()
		})
	}
}

func progressPublish(fs *flag.FlagSet) cli.Action {
	ef := dbFlags(fs)
	deadline := fs.String("deadline", "", "deadline id from the progress file (required)")
	bureau := fs.String("bureau", "", "only this bureau's reports (default: every bureau of the deadline)")
	return func(ctx context.Context, c cli.Call) error {
		if *deadline == "" || len(c.Args) != 0 {
			return cli.Usagef("progress publish needs --deadline ID")
		}
		return withEnv(ctx, ef, c, func(e *env) error {
			n, err := e.progress(nil).Publish(ctx, *deadline, *bureau, "cli")
			if err != nil {
				return inputErr(err)
			}
			fmt.Fprintf(c.Stdout, "%s: %d reports published\n", *deadline, n)
			return nil
		})
	}
}

// progressDraftIssue creates a draft issue of --list from the published
// reports (newsletter.ReportsDraft) and prints its id.
func progressDraftIssue(fs *flag.FlagSet) cli.Action {
	ef := dbFlags(fs)
	list := fs.String("list", "", "list slug, e.g. chonai (required)")
	deadline := fs.String("deadline", "", "only this deadline's reports (default: the latest published report of every project)")
	return func(ctx context.Context, c cli.Call) error {
		if *list == "" || len(c.Args) != 0 {
			return cli.Usagef("progress draft-issue needs --list SLUG")
		}
		return withEnv(ctx, ef, c, func(e *env) error {
			subs := e.subscribers(nil)
			if err := e.syncLists(ctx, subs); err != nil {
				return err
			}
			draft := newsletter.ReportsDraft{Subscribers: subs, Issues: e.issues(), Progress: e.progress(nil)}
			is, err := draft.Create(ctx, *list, *deadline, issues.Actor{Login: "cli", Source: "cli"})
			if err != nil {
				return inputErr(err)
			}
			fmt.Fprintln(c.Stdout, is.ID)
			return nil
		})
	}
}

// exportProgress writes the council report's CSV (one row per deadline
// and project) on stdout.
func exportProgress(fs *flag.FlagSet) cli.Action {
	ef := dbFlags(fs)
	deadline := fs.String("deadline", "", "only this deadline (default: all)")
	bom := fs.Bool("bom", false, "start with a UTF-8 BOM (for Excel)")
	return func(ctx context.Context, c cli.Call) error {
		if len(c.Args) != 0 {
			return cli.Usagef("export progress takes no arguments")
		}
		return withEnv(ctx, ef, c, func(e *env) error {
			return inputErr(e.progress(nil).ExportReportsCSV(ctx, c.Stdout, progress.CSVOptions{Deadline: *deadline, BOM: *bom}))
		})
	}
}
