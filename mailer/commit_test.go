package mailer

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// TestCommitRecordsEveryColumn records a batch of results in the one
// statement commit writes (issue 19) and reads each row back: texts that
// need JSON escaping, invalid UTF-8, nulls that keep or clear a column.
func TestCommitRecordsEveryColumn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	now := time.UnixMilli(1_800_000_000_000)
	m := newMailer(t, db, Options{Now: func() time.Time { return now }})
	if _, err := m.Snapshot(ctx, 1, 1, listSource{"a@x.jp", "b@x.jp", "c@x.jp", "d@x.jp"}); err != nil {
		t.Fatal(err)
	}
	ds, err := m.claim(ctx, 10)
	if err != nil || len(ds) != 4 {
		t.Fatalf("claimed %d, %v", len(ds), err)
	}
	later := now.Add(time.Hour)
	reply := "mailbox \"full\"\r\n\tback\\slash 満杯 \xff"
	batch := []result{
		{d: ds[0], status: StatusSent, attempted: true, msgID: "k.1.1@x.jp", queueID: "4F2C81A0B", relay: "127.0.0.1:25"},
		{d: ds[1], status: StatusQueued, attempted: true, next: later, e: &Error{Code: 452, Enhanced: "4.2.2", Text: reply, Stage: StageRcpt, Temporary: true}},
		{d: ds[2], status: StatusSkipped, note: "recipient left"},
		{d: Delivery{ID: ds[3].ID}, status: StatusFailed, attempted: true, e: &Error{Text: "no code"}},
	}
	if err := m.commit(ctx, batch); err != nil {
		t.Fatal(err)
	}
	type row struct {
		status                       string
		attempts                     int
		next                         int64
		first, done, code            sql.NullInt64
		enh, text, msgID, qid, relay sql.NullString
	}
	read := func(id int64) row {
		var r row
		err := db.QueryRowContext(ctx, `SELECT status, attempts, next_attempt_ms, first_attempt_ms, done_ms,
			last_code, last_enhanced, last_error, message_id, queue_id, relay FROM deliveries WHERE id = ?`, id).
			Scan(&r.status, &r.attempts, &r.next, &r.first, &r.done, &r.code, &r.enh, &r.text, &r.msgID, &r.qid, &r.relay)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	ms := now.UnixMilli()
	n := func(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: true} }
	s := func(v string) sql.NullString { return sql.NullString{String: v, Valid: true} }
	want := []row{
		{status: StatusSent, attempts: 1, next: ms, first: n(ms), done: n(ms), msgID: s("k.1.1@x.jp"), qid: s("4F2C81A0B"), relay: s("127.0.0.1:25")},
		{status: StatusQueued, attempts: 1, next: later.UnixMilli(), first: n(ms), code: n(452), enh: s("4.2.2"),
			text: s((&Error{Code: 452, Enhanced: "4.2.2", Text: "mailbox \"full\"\r\n\tback\\slash 満杯 \uFFFD", Stage: StageRcpt}).Error())},
		{status: StatusSkipped, next: ms, done: n(ms), text: s("recipient left")},
		{status: StatusFailed, attempts: 1, next: ms, first: n(ms), done: n(ms), text: s((&Error{Text: "no code"}).Error())},
	}
	for i, d := range ds {
		if got := read(d.ID); got != want[i] {
			t.Errorf("delivery %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
	// A row no longer "sending" (recorded already) is left alone.
	if err := m.commit(ctx, []result{{d: ds[0], status: StatusFailed, note: "again"}}); err != nil {
		t.Fatal(err)
	}
	if got := read(ds[0].ID); got != want[0] {
		t.Errorf("recorded twice: %+v", got)
	}
}
