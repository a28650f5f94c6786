package issues_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"kawaraban/issues"
	"kawaraban/store"
)

// exampleDB opens a migrated database in a new temporary directory, as
// the daemon opens its file with store.Open; done closes it and removes
// the directory.
func exampleDB(ctx context.Context) (db *sql.DB, done func()) {
	dir, err := os.MkdirTemp("", "issues-example")
	if err != nil {
		panic(err)
	}
	db, err = store.Open(ctx, filepath.Join(dir, "k.db"), store.Options{})
	if err != nil {
		panic(err)
	}
	return db, func() { db.Close(); os.RemoveAll(dir) }
}

// outbox is an Outbox that snapshots three recipients.
type outbox struct{}

func (outbox) Snapshot(ctx context.Context, issueID, listID int64) (int, error) { return 3, nil }

func Example() {
	ctx := context.Background()
	db, done := exampleDB(ctx)
	defer done()
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	s := issues.New(db, issues.Options{Now: func() time.Time { return now }})

	is, _ := s.Create(ctx, issues.Draft{ListID: 1, Subject: "環境だより 12月号",
		BodyMarkdown: "{{ .Name }}様\n\nこんにちは。", Author: "kankyo-ed", RequireApproval: true})
	_, err := s.SendNow(ctx, is.ID, issues.Actor{Login: "kankyo-ed", Source: "api"})
	fmt.Println(err)
	s.Approve(ctx, is.ID, issues.Actor{Login: "kankyo-chief", Source: "web"}, "")
	s.SendNow(ctx, is.ID, issues.Actor{Login: "kankyo-ed", Source: "api"})
	if err := s.StartDue(ctx, now, outbox{}); err != nil {
		fmt.Println(err)
	}
	is, _ = s.ByID(ctx, is.ID)
	fmt.Println(is.Status, *is.Recipients)
	// Output:
	// send_now issue 1: issue needs approval by another user
	// sending 3
}
