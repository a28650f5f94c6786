package mailer

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"testing"
)

// jointSource holds each list's subscriber ids; addresses follow the id.
type jointSource map[int64][]int64

func (l jointSource) EachRecipient(ctx context.Context, tx *sql.Tx, listID int64, fn func(Recipient) error) error {
	for _, id := range l[listID] {
		if err := fn(Recipient{SubscriberID: id, Email: "r" + string(rune('a'+id)) + "@example.jp"}); err != nil {
			return err
		}
	}
	return nil
}

// TestSnapshotListsOncePerSubscriber: issue 17. A joint issue's snapshot
// gives each subscriber one delivery, for the first of its lists they are
// on, and the per-list counts add up to the issue's.
func TestSnapshotListsOncePerSubscriber(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	m := newMailer(t, db, Options{})
	ctx := context.Background()
	src := jointSource{10: {1, 2, 3}, 20: {3, 4, 1, 5}}
	n, err := m.SnapshotLists(ctx, 1, []int64{10, 20}, src)
	if err != nil || n != 5 {
		t.Fatalf("SnapshotLists = %d, %v; want 5", n, err)
	}
	if n, err := m.SnapshotLists(ctx, 1, []int64{10, 20}, src); err != nil || n != 0 {
		t.Fatalf("second SnapshotLists = %d, %v; want 0", n, err)
	}
	want := map[int64]int64{1: 10, 2: 10, 3: 10, 4: 20, 5: 20}
	rows, err := db.Query(`SELECT subscriber_id, list_id FROM deliveries WHERE issue_id = 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var sub, list int64
		rows.Scan(&sub, &list)
		if want[sub] != list {
			t.Errorf("subscriber %d: delivery for list %d, want %d", sub, list, want[sub])
		}
	}
	a, errA := m.ProgressOn(ctx, 1, 10)
	b, errB := m.ProgressOn(ctx, 1, 20)
	all, errAll := m.Progress(ctx, 1)
	if errA != nil || errB != nil || errAll != nil || a.Queued != 3 || b.Queued != 2 || all.Queued != a.Queued+b.Queued {
		t.Fatalf("per list %d+%d, issue %d (%v %v %v)", a.Queued, b.Queued, all.Queued, errA, errB, errAll)
	}
	ds, err := m.claim(ctx, 10)
	if err != nil || len(ds) != 5 {
		t.Fatalf("claim = %d, %v", len(ds), err)
	}
	for _, d := range ds {
		if d.ListID != want[d.SubscriberID] {
			t.Errorf("claimed delivery of %d has list %d, want %d", d.SubscriberID, d.ListID, want[d.SubscriberID])
		}
	}
	d, ok, err := m.DeliveryByID(ctx, ds[0].ID)
	if err != nil || !ok || d.ListID != ds[0].ListID {
		t.Fatalf("DeliveryByID = %+v %v %v", d, ok, err)
	}
}

// brokenSecondList fails in the middle of the second list's walk.
type brokenSecondList struct{ jointSource }

func (b brokenSecondList) EachRecipient(ctx context.Context, tx *sql.Tx, listID int64, fn func(Recipient) error) error {
	if listID == 20 {
		if err := fn(Recipient{SubscriberID: 9, Email: "x@example.jp"}); err != nil {
			return err
		}
		return errors.New("disk I/O error")
	}
	return b.jointSource.EachRecipient(ctx, tx, listID, fn)
}

// A joint snapshot that fails on its second list leaves nothing behind
// (one transaction), and the next try snapshots every list (issue 17).
func TestSnapshotListsAllOrNothing(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	m := newMailer(t, db, Options{})
	ctx := context.Background()
	src := jointSource{10: {1, 2}, 20: {2, 3}}
	if _, err := m.SnapshotLists(ctx, 1, []int64{10, 20}, brokenSecondList{src}); err == nil {
		t.Fatal("a failed snapshot reported success")
	}
	if got := statuses(t, db, 1); len(got) != 0 {
		t.Fatalf("a failed snapshot left %v", got)
	}
	if n, err := m.SnapshotLists(ctx, 1, []int64{10, 20}, src); err != nil || n != 3 {
		t.Fatalf("snapshot after the failure = %d, %v; want 3", n, err)
	}
}

// rangeSource gives list l the subscribers lo[l]..hi[l].
type rangeSource map[int64][2]int64

func (r rangeSource) EachRecipient(ctx context.Context, tx *sql.Tx, listID int64, fn func(Recipient) error) error {
	for id := r[listID][0]; id <= r[listID][1]; id++ {
		if err := fn(Recipient{SubscriberID: id, Email: "r" + strconv.FormatInt(id, 10) + "@d" + strconv.FormatInt(id%7, 10) + ".example.jp"}); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkSnapshotLists: the snapshot of 100,000 distinct readers, from
// one list, and from a joint issue of two lists of 60,000 that share
// 20,000 (the shared rows lose the unique (issue, subscriber) race).
func BenchmarkSnapshotLists(b *testing.B) {
	for _, c := range []struct {
		name  string
		lists []int64
		src   rangeSource
	}{
		{"one-list-100k", []int64{10}, rangeSource{10: {1, 100_000}}},
		{"joint-2x60k-overlap20k", []int64{10, 20}, rangeSource{10: {1, 60_000}, 20: {40_001, 100_000}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			db := openDB(b)
			m := newMailer(b, db, Options{})
			ctx := context.Background()
			var issue int64
			for b.Loop() {
				issue++
				n, err := m.SnapshotLists(ctx, issue, c.lists, c.src)
				if err != nil || n != 100_000 {
					b.Fatalf("SnapshotLists = %d, %v", n, err)
				}
			}
		})
	}
}
