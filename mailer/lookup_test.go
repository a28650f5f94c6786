package mailer

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kawaraban/store"
)

func TestDeliveryLookup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "k.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, err := New(db, Options{Relays: []Relay{{Host: "127.0.0.1", Port: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	db.Exec(`INSERT INTO mailer_runs(issue_id, list_id, created_ms, updated_ms) VALUES (5, 1, 0, 0)`)
	db.Exec(`INSERT INTO deliveries(id, issue_id, subscriber_id, email, domain, message_id)
		VALUES (9, 5, 3, 'a@example.jp', 'example.jp', 'other-id@example.jp')`)
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"<kawaraban.5.9@city.example.jp>", true}, // no Signer: no tag
		{"kawaraban.6.9@city.example.jp", false},  // issue does not match
		{"<other-id@example.jp>", true},
		{"unknown@example.jp", false},
		{"", false},
	} {
		d, ok, err := m.DeliveryByMessageID(ctx, tc.id)
		if err != nil || ok != tc.want || (ok && d.ID != 9) {
			t.Errorf("%q: %+v %v %v", tc.id, d, ok, err)
		}
	}
	// With a Signer (production) the Message-ID carries a tag: the
	// unsigned, guessable form names nothing (issue 15).
	ms, err := New(db, Options{Relays: []Relay{{Host: "127.0.0.1", Port: 1}}, Signer: testSigner(t)})
	if err != nil {
		t.Fatal(err)
	}
	signed := ms.deliveryMessageID(5, 9, "city.example.jp")
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"<" + signed + ">", true},
		{"kawaraban.5.9@city.example.jp", false},
		{strings.Replace(signed, ".5.9.", ".5.8.", 1), false},
		{signed[:len(signed)-len("@city.example.jp")-2] + "xx@city.example.jp", false},
	} {
		if _, ok, err := ms.DeliveryByMessageID(ctx, tc.id); ok != tc.want || err != nil {
			t.Errorf("signed: %q: %v %v, want %v", tc.id, ok, err, tc.want)
		}
	}
	if d, ok, _ := m.DeliveryByID(ctx, 9); !ok || d.Email != "a@example.jp" || d.SubscriberID != 3 {
		t.Errorf("ByID: %+v %v", d, ok)
	}
}

// An issue whose list has no recipients still finishes (it used to stay
// "sending" for good: nothing ever completed to trigger checkDone).
func TestEmptyIssueFinishes(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := openDB(t)
	var mu sync.Mutex
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	done := make(chan int64, 1)
	m := newMailer(t, db, Options{
		Relays: []Relay{{Host: "127.0.0.1", Port: 1, TLS: "none"}},
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		},
		Renderer:    skipAll{},
		OnIssueDone: func(ctx context.Context, id int64) { done <- id },
	})
	if n, err := m.Snapshot(ctx, 42, 1, genSource{n: 0}); err != nil || n != 0 {
		t.Fatalf("snapshot: %d %v", n, err)
	}
	mu.Lock()
	now = now.Add(5 * time.Second)
	mu.Unlock()
	go m.Run(ctx)
	select {
	case id := <-done:
		if id != 42 {
			t.Fatalf("done %d", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("empty issue never finished")
	}
}

type skipAll struct{}

func (skipAll) Render(context.Context, Delivery) (*Message, error) { return nil, ErrSkip }
