package progress_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"kawaraban/progress"
	"kawaraban/store"
	"kawaraban/token"
)

// printer is a Sender that prints what it would send.
type printer struct{}

func (printer) SendSystem(_ context.Context, m progress.Mail) error {
	fmt.Printf("to %s: %s (auto-submitted %v)\n", m.To, m.Subject, m.AutoSubmitted)
	return nil
}

// exampleDB opens a migrated database in a new temporary directory, as
// the daemon opens its file with store.Open; done closes it and removes
// the directory.
func exampleDB(ctx context.Context) (db *sql.DB, done func()) {
	dir, err := os.MkdirTemp("", "progress-example")
	if err != nil {
		panic(err)
	}
	db, err = store.Open(ctx, filepath.Join(dir, "k.db"), store.Options{})
	if err != nil {
		panic(err)
	}
	return db, func() { db.Close(); os.RemoveAll(dir) }
}

func Example() {
	ctx := context.Background()
	db, done := exampleDB(ctx)
	defer done()
	signer, _ := token.NewSigner(bytes.Repeat([]byte("k"), 32))
	s := progress.New(db, progress.Options{Signer: signer, BaseURL: "https://mail.example.jp", Sender: printer{}})

	plan := `
contacts: [{bureau: somu, name_ja: 総務局, email: somu@city.example.jp}]
deadlines: [{id: fy2026-status, title_ja: 令和8年度 実施状況の報告, due: 2027-04-30, bureaus: [somu]}]
reminders: {before_days: [14, 7, 1], overdue_every_days: 3, escalate_after_days: 7, coordinator: coordinator@city.example.jp}
`
	if _, err := s.Import(ctx, strings.NewReader(plan), "plan.yaml"); err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2027, 4, 23, 9, 0, 0, 0, time.FixedZone("JST", 9*3600))
	rep, _ := s.RunReminders(ctx, now, false)
	fmt.Println("sent:", rep.Sent)
	rep, _ = s.RunReminders(ctx, now, false)
	fmt.Println("sent again:", rep.Sent)
	// Output:
	// to somu@city.example.jp: 【提出のお願い】令和8年度 実施状況の報告（提出期限 2027年4月30日(金)・あと7日） (auto-submitted true)
	// sent: 1
	// sent again: 0
}

func ExampleStore_Import() {
	ctx := context.Background()
	db, done := exampleDB(ctx)
	defer done()
	s := progress.New(db, progress.Options{})
	bad := `contacts: [{bureau: somu, name_ja: 総務局, email: somu@city.example.jp}]
deadlines:
  - {id: a, title_ja: 報告, due: 2027-04-31, bureaus: [somu]}
  - {id: b, title_ja: 報告, due: 2027-04-30, bureaus: [kankyo]}
`
	_, err := s.Import(ctx, strings.NewReader(bad), "bad.yaml")
	fmt.Println(err)
	// Output:
	// bad.yaml: refused, nothing imported (2 problems)
	// bad.yaml: line 3: deadlines[0].due: date "2027-04-31" is not YYYY-MM-DD
	// bad.yaml: line 4: deadlines[1].bureaus[0]: unknown bureau "kankyo" (not in contacts)
}

// A bureau reports through its link; nothing is public until the
// coordinator publishes.
func ExampleStore_Publish() {
	ctx := context.Background()
	db, done := exampleDB(ctx)
	defer done()
	signer, _ := token.NewSigner(bytes.Repeat([]byte("k"), 32))
	now := func() time.Time { return time.Date(2027, 4, 20, 9, 0, 0, 0, time.UTC) }
	s := progress.New(db, progress.Options{Now: now, Signer: signer, BaseURL: "https://mail.example.jp"})
	plan := `
contacts: [{bureau: somu, name_ja: 総務局, email: somu@city.example.jp}]
measures: [{number: 32, title_ja: 庁内の仕組みづくり, projects: [{title_ja: 職員研修の充実, bureau: somu}]}]
deadlines: [{id: fy2026-status, title_ja: 令和8年度 実施状況の報告, due: 2027-04-30, bureaus: [somu]}]
`
	if _, err := s.Import(ctx, strings.NewReader(plan), "plan.yaml"); err != nil {
		fmt.Println(err)
		return
	}
	link, _ := s.SubmittedURL(ctx, "fy2026-status", "somu")
	tok := link[strings.LastIndex(link, "/")+1:]
	in := []progress.ReportInput{{Project: "32-1", Status: progress.StatusOngoing, Note: "研修を年3回開きました。"}}
	n, err := s.SaveReportByToken(ctx, tok, in, progress.Evidence{IP: "203.0.113.5", UserAgent: "example"})
	fmt.Println("revisions:", n, err)
	m, _ := s.PublicMeasure(ctx, 32)
	fmt.Println("public before:", m.Projects[0].Report != nil)
	n, _ = s.Publish(ctx, "fy2026-status", "", "coordinator")
	m, _ = s.PublicMeasure(ctx, 32)
	fmt.Println("published:", n, m.Projects[0].Report.Status.Japanese(), m.Projects[0].Report.Note)
	// Output:
	// revisions: 1 <nil>
	// public before: false
	// published: 1 実施中 研修を年3回開きました。
}
