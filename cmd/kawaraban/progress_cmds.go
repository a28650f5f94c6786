package main

import (
	"context"
	"fmt"
	"io"

	"kawaraban/issues"
	"kawaraban/progress"
)

// The commands around the bureaus' reports (issue 23): publish them (the
// coordinator's button), compose the internal newsletter's draft from the
// published ones, and export them for the council report.

func cmdProgressPublish(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, ef := dbFlags("progress publish", stderr)
	deadline := fs.String("deadline", "", "deadline id from the progress file (required)")
	bureau := fs.String("bureau", "", "only this bureau's reports (default: every bureau of the deadline)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *deadline == "" || fs.NArg() != 0 {
		return badUsage("progress publish needs --deadline ID")
	}
	return withEnv(ctx, ef, stderr, func(e *env) error {
		n, err := e.progress(nil).Publish(ctx, *deadline, *bureau, "cli")
		if err != nil {
			return inputErr(err)
		}
		fmt.Fprintf(stdout, "%s: %d reports published\n", *deadline, n)
		return nil
	})
}

// cmdProgressDraftIssue creates a draft issue of --list from the published
// reports and prints its id. It is an ordinary draft: it needs approval
// when the list asks for it (a composed draft is read by a person first).
func cmdProgressDraftIssue(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, ef := dbFlags("progress draft-issue", stderr)
	list := fs.String("list", "", "list slug, e.g. chonai (required)")
	deadline := fs.String("deadline", "", "only this deadline's reports (default: the latest published report of every project)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *list == "" || fs.NArg() != 0 {
		return badUsage("progress draft-issue needs --list SLUG")
	}
	return withEnv(ctx, ef, stderr, func(e *env) error {
		subs := e.subscribers(nil)
		if err := e.syncLists(ctx, subs); err != nil {
			return err
		}
		l, err := subs.ListBySlug(ctx, *list)
		if err != nil {
			return inputErr(err)
		}
		d, err := e.progress(nil).ComposeIssue(ctx, *deadline)
		if err != nil {
			return inputErr(err)
		}
		is, err := e.issues().Create(ctx, issues.Draft{ListID: l.ID, Subject: d.Subject, BodyMarkdown: d.Markdown,
			Author: "cli", Source: "cli", RequireApproval: l.RequireApproval})
		if err != nil {
			return fmt.Errorf("creating the draft issue: %w", err)
		}
		fmt.Fprintln(stdout, is.ID)
		return nil
	})
}

// cmdExportProgress writes the council report's CSV (one row per deadline
// and project) on stdout.
func cmdExportProgress(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, ef := dbFlags("export progress", stderr)
	deadline := fs.String("deadline", "", "only this deadline (default: all)")
	bom := fs.Bool("bom", false, "start with a UTF-8 BOM (for Excel)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return badUsage("export progress takes no arguments")
	}
	return withEnv(ctx, ef, stderr, func(e *env) error {
		return inputErr(e.progress(nil).ExportReportsCSV(ctx, stdout, progress.CSVOptions{Deadline: *deadline, BOM: *bom}))
	})
}
