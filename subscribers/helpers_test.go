package subscribers

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kawaraban/internal/testclock"
	"kawaraban/store"
	"kawaraban/token"
)

const testBase = "https://mail.example.jp"

// recorder is a Confirmer that keeps what it was asked to send.
type recorder struct {
	mu   sync.Mutex
	sent []Confirmation
}

func (r *recorder) SendConfirmation(_ context.Context, c Confirmation) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, c)
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

func (r *recorder) last(t testing.TB) Confirmation {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.sent) == 0 {
		t.Fatal("no confirmation sent")
	}
	return r.sent[len(r.sent)-1]
}

// confirmToken extracts the token from a confirmation link.
func confirmToken(t testing.TB, c Confirmation) string {
	t.Helper()
	tok, ok := strings.CutPrefix(c.ConfirmURL, testBase+"/confirm/")
	if !ok || tok == "" {
		t.Fatalf("confirm URL %q", c.ConfirmURL)
	}
	return tok
}

var testLists = []List{
	{Slug: "kodomo", NameJA: "子ども・若者センター通信", NameEN: "Children and Youth Center News", DoubleOptIn: true,
		FromAddress: "kodomo@city.example.jp", PostalAddress: "京都市中京区寺町通御池上る上本能寺前町488", Contact: "075-000-0000"},
	{Slug: "kankyo", NameJA: "環境センター通信", DoubleOptIn: true},
	{Slug: "quick", NameJA: "単一オプトイン", DoubleOptIn: false},
	{Slug: "chonai", NameJA: "庁内情報誌", Kind: KindInternal, AllowedDomains: []string{"city.kyoto.lg.jp"}},
}

type fixture struct {
	s   *Store
	db  *sql.DB
	clk *testclock.Clock
	rec *recorder
	ctx context.Context
}

func newFixture(t testing.TB) fixture {
	t.Helper()
	return newFixtureAt(t, filepath.Join(t.TempDir(), "k.db"))
}

// newFixtureAt is newFixture on the database file path, which may exist
// (a restart).
func newFixtureAt(t testing.TB, path string) fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	signer, err := token.NewSigner(bytes.Repeat([]byte("s"), 32))
	if err != nil {
		t.Fatal(err)
	}
	clk := testclock.New(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	rec := &recorder{}
	s := New(db, Options{Now: clk.Now, Signer: signer, BaseURL: testBase + "/", Confirmer: rec})
	if err := s.SyncLists(ctx, testLists); err != nil {
		t.Fatal(err)
	}
	return fixture{s: s, db: db, clk: clk, rec: rec, ctx: ctx}
}

func (f fixture) list(t testing.TB, slug string) List {
	t.Helper()
	l, err := f.s.ListBySlug(f.ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// recipients returns the addresses EachRecipient yields for slug.
func (f fixture) recipients(t testing.TB, slug string) []string {
	t.Helper()
	var out []string
	err := f.s.EachRecipient(f.ctx, nil, f.list(t, slug).ID, func(r Recipient) error {
		out = append(out, r.Email)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f fixture) subscribe(t testing.TB, email string, lists ...string) {
	t.Helper()
	err := f.s.Subscribe(f.ctx, SubscribeRequest{Email: email, Lists: lists, Source: SourceWeb,
		Evidence: Evidence{IP: "192.0.2.1", UserAgent: "test"}})
	if err != nil {
		t.Fatalf("Subscribe(%s): %v", email, err)
	}
}

// subscribeConfirmed subscribes and follows the confirmation link.
func (f fixture) subscribeConfirmed(t testing.TB, email string, lists ...string) int64 {
	t.Helper()
	n := f.rec.count()
	f.subscribe(t, email, lists...)
	if f.rec.count() != n+1 {
		t.Fatalf("no confirmation mail for %s", email)
	}
	res, err := f.s.Confirm(f.ctx, confirmToken(t, f.rec.last(t)), Evidence{IP: "192.0.2.2"})
	if err != nil {
		t.Fatal(err)
	}
	return res.SubscriberID
}
