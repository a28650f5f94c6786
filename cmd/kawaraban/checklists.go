package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"kawaraban/config"
	"kawaraban/store"
	"kawaraban/subscribers"
)

// checkListDrift tells, after a config passed check-config, where its
// lists differ from the database at database.path (when that file
// exists): which differences the next start applies and which it keeps
// because an admin edited them in the UI (the precedence rule of
// subscribers.SyncLists; docs/OPERATING.md, "Lists"). Differences are
// notes, not problems: the exit code stays 0.
func checkListDrift(ctx context.Context, c *config.Config, stdout io.Writer) {
	if _, err := os.Stat(c.Database.Path); err != nil {
		return
	}
	db, err := store.Open(ctx, c.Database.Path, store.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintf(stdout, "lists: not compared with the database: %v\n", err)
		return
	}
	defer db.Close()
	drifts, err := subscribers.New(db, subscribers.Options{}).ListDrifts(ctx, c.SubscriberLists())
	if err != nil {
		fmt.Fprintf(stdout, "lists: not compared with the database (a start migrates it first): %v\n", err)
		return
	}
	for _, d := range drifts {
		fmt.Fprintln(stdout, d.Text(c.ListKey(d.Slug)))
	}
}
